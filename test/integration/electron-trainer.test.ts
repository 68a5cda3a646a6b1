/**
 * The desktop app's worker processes, tested without the Electron binary (it cannot be installed
 * here): the engine starts every trainer, estimator and backend probe through the installed process
 * launcher (the Electron shell installs one that uses utilityProcess); electron-vite builds the
 * worker entries beside main.js, where electron/worker-launcher.ts looks for them; and the built
 * trainer and estimator, run by plain Node (standing in for utility processes), train a tiny run end
 * to end and measure an estimate, the trainer probing its backend with the built probe entry, which
 * it asks this process to start (the relay, as it asks the Electron main process in the app).
 *
 * electron-vite reads the Electron version from the electron package to pick its Node target; with
 * the package absent (no binary could be downloaded) ELECTRON_MAJOR_VER gives it, from package.json.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Service } from '../../main/service/service';
import { runProbeChild } from '../../main/backend/probe';
import { forkLauncher, setProcessLauncher, tsxLauncher, WORKER_SOURCES, type ProcessLauncher, type WorkerEntry } from '../../main/workers/process-launcher';
import { relayHostLauncher } from '../../main/workers/relay-host';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject } from '../fixtures/train-project';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const TINY = { model: 'phi=-8', resolution: 32, backend: 'cpu' as const, augment: false as const, mode: 'full' as const, epochs: 1, batch: 8 };

let dir: string;
let file: string;
let service: Service;
const savedHome = process.env.EFFITUNE_HOME;
const builtDirs: string[] = [];

/** A launcher that records what it starts, around another. */
function recording(inner: ProcessLauncher, started: { entry: WorkerEntry; pid: number | null }[]): ProcessLauncher {
  return (entry, options) => {
    const worker = inner(entry, options);
    started.push({ entry, pid: worker.pid });
    return worker;
  };
}

beforeAll(async () => {
  dir = makeTempDir('electron-trainer');
  process.env.EFFITUNE_HOME = path.join(dir, 'home');
  const project = await createTrainProject(dir, 6);
  project.registry.closeAll();
  file = project.file;
  service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
}, 60_000);

afterEach(() => setProcessLauncher(null));

afterAll(() => {
  setProcessLauncher(null);
  service?.close();
  if (savedHome === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = savedHome;
  removeDir(dir);
  for (const built of builtDirs) removeDir(built);
});

describe('worker processes', () => {
  it('are started through the installed launcher: a trainer, and a backend probe', async () => {
    const started: { entry: WorkerEntry; pid: number | null }[] = [];
    setProcessLauncher(recording(tsxLauncher(), started));
    const run = await service.call('train.start', { project: file, ...TINY });
    expect(started).toEqual([{ entry: 'trainer', pid: expect.any(Number) }]);
    const { runs } = await service.call('train.active', {});
    expect(runs.find((r) => r.runId === run.run.id)?.pid).toBe(started[0].pid);
    expect((await service.call('train.wait', { project: file, runId: run.run.id })).run.status).toBe('completed');

    const probe = await runProbeChild('wasm');
    expect(probe.result?.loads, probe.failure).toBe(true);
    expect(started.map((s) => s.entry)).toEqual(['trainer', 'probe']);
  }, 180_000);

  it('electron-vite builds the trainer and the estimator beside main.js; built, they train and measure under plain Node', async () => {
    // inside the repository, as out/ is, so the bundles find node_modules; out/ itself belongs to the app's build
    const out = path.join(repoRoot, '.cache', `test-electron-build-${process.pid}`);
    builtDirs.push(out);
    const config = path.join(dir, 'main-only.config.ts');
    // the app's own main-process configuration, only its output folder moved
    fs.writeFileSync(
      config,
      `import config from ${JSON.stringify(path.join(repoRoot, 'electron.vite.config.ts'))};\n` +
        `const main = config.main;\nexport default { main: { ...main, build: { ...main.build, outDir: ${JSON.stringify(out)} } } };\n`,
    );
    const electronMajor = /(\d+)/.exec((JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> }).optionalDependencies.electron)![1];
    const build = spawnSync(process.execPath, [path.join(path.dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js'), 'build', '--config', config], {
      cwd: repoRoot,
      env: { ...process.env, ELECTRON_MAJOR_VER: electronMajor },
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(build.status, `electron-vite build failed:\n${build.stdout}\n${build.stderr}`).toBe(0);
    const entries = Object.keys(WORKER_SOURCES) as WorkerEntry[];
    for (const name of ['main', ...entries]) expect(fs.existsSync(path.join(out, `${name}.js`)), `${name}.js`).toBe(true);

    const started: { entry: WorkerEntry; pid: number | null }[] = [];
    const built = Object.fromEntries(entries.map((e) => [e, path.join(out, `${e}.js`)])) as Record<WorkerEntry, string>;
    setProcessLauncher(recording(forkLauncher(built), started));

    const run = await service.call('train.start', { project: file, ...TINY, seed: 2 });
    const outcome = await service.call('train.wait', { project: file, runId: run.run.id });
    expect(outcome.run.status, outcome.run.reason ?? '').toBe('completed');
    expect(outcome.epochs).toHaveLength(1);
    expect(outcome.modelDir).not.toBeNull();

    const estimate = await service.call('train.estimate', { project: file, ...TINY, resolution: 40 });
    expect(estimate.basis).toBe('measured');
    expect(estimate.secondsPerEpoch).toBeGreaterThan(0);
    expect(started.map((s) => s.entry)).toEqual(['trainer', 'estimator']);

    // As in the app (electron/worker-launcher.ts): the launcher serves the relay, so the built
    // trainer, forced onto the wasm backend, has this process start the built probe entry for it
    // (a worker cannot use utilityProcess, and the app binary does not run as Node), and trains on it.
    const relayed: { entry: WorkerEntry; pid: number | null }[] = [];
    setProcessLauncher(relayHostLauncher(recording(forkLauncher(built), relayed)));
    const wasmRun = await service.call('train.start', { project: file, ...TINY, backend: 'wasm', seed: 3 });
    const wasmOutcome = await service.call('train.wait', { project: file, runId: wasmRun.run.id });
    expect(wasmOutcome.run.status, wasmOutcome.run.reason ?? '').toBe('completed');
    expect(wasmOutcome.run.backend).toBe('wasm');
    expect(relayed.map((s) => s.entry)).toEqual(['trainer', 'probe']);
  }, 420_000);
});
