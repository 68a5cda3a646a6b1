/**
 * The hand-off's files under kill -9 at the worst moments (the soak found these; test/soak runs
 * them at random moments too). The CLI kills itself just before a chosen node:fs call
 * (test/soak/kill-at.mjs), a real SIGKILL: no handler or finally runs.
 *   - export --force killed just before the new bundle is renamed in: the old bundle comes back
 *     (the next export's sweep), never neither; a killed export's temporary folder is swept;
 *   - import killed while it writes the run's model: no run is recorded (none stuck "running"),
 *     nothing half-written stays, and importing again records exactly one completed run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPythonWithTorch } from '../../main/handoff/python-torch';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject } from '../fixtures/train-project';

const root = path.resolve(__dirname, '../..');
const MODEL = ['--model', 'custom', '--phi', '-8', '--resolution', '32', '--mode', 'full', '--batch', '4', '--epochs', '1', '--patience', '0', '--no-augment'];
const { found: torch } = findPythonWithTorch();

let dir: string;
let project: string;
let env: NodeJS.ProcessEnv;

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The real CLI in a child process; with `killAt` it sends itself SIGKILL just before that fs call. */
function cli(args: string[], killAt?: { call: string; arg: number; pattern: string }): Promise<Ran> {
  const child = spawn(process.execPath, ['--import', path.join(root, 'test/soak/kill-at.mjs'), path.join(root, 'bin/effitune.mjs'), ...args], {
    cwd: dir,
    env: { ...env, EFFITUNE_SOAK_KILL_AT: JSON.stringify(killAt ?? null) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const createdAt = (bundle: string) => JSON.parse(fs.readFileSync(path.join(bundle, 'bundle.json'), 'utf8')).createdAt as string;
/** what a killed writer can leave beside a folder: hidden .NAME.tmp-/.old- siblings, or NAME.tmp-PID */
const leftovers = (parent: string, name: string) => fs.readdirSync(parent).filter((f) => f !== name && (f.startsWith(`.${name}.`) || f.startsWith(`${name}.tmp`)));

beforeAll(async () => {
  dir = makeTempDir('handoff-kill');
  env = { ...process.env, EFFITUNE_HOME: path.join(dir, 'home') };
  const made = await createTrainProject(dir, 6, { classes: 2 });
  made.registry.closeAll();
  project = made.file;
}, 60_000);

afterAll(() => removeDir(dir));

describe('hand-off under kill -9', () => {
  it('export --force killed just before the new bundle goes in: the old one comes back, and nothing is left over', { timeout: 180_000 }, async () => {
    const bundle = path.join(dir, 'bundle');
    const first = await cli(['handoff', 'export', project, ...MODEL, '--out', bundle, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const old = createdAt(bundle);

    const killed = await cli(['handoff', 'export', project, ...MODEL, '--out', bundle, '--force', '--json'], { call: 'renameSync', arg: 1, pattern: `^${escape(bundle)}$` });
    expect(killed.signal).toBe('SIGKILL');
    // the next export puts the old bundle back before it looks: so it is refused (no --force), unchanged
    const next = await cli(['handoff', 'export', project, ...MODEL, '--out', bundle, '--json']);
    expect(next.code).toBe(3);
    expect(next.stderr).toMatch(/already exists/);
    expect(createdAt(bundle)).toBe(old);
    expect(leftovers(dir, 'bundle')).toEqual([]);

    // killed while writing the new bundle: the old one stays, the temporary folder is swept by the next
    const midway = await cli(['handoff', 'export', project, ...MODEL, '--out', bundle, '--force', '--json'], { call: 'writeFileSync', arg: 0, pattern: 'README\\.md$' });
    expect(midway.signal).toBe('SIGKILL');
    expect(createdAt(bundle)).toBe(old);
    const replaced = await cli(['handoff', 'export', project, ...MODEL, '--out', bundle, '--force', '--json']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(createdAt(bundle)).not.toBe(old);
    expect(leftovers(dir, 'bundle')).toEqual([]);
  });

  it.skipIf(!torch)('import killed while writing the run: no run recorded, nothing half-written; importing again records one completed run', { timeout: 300_000 }, async () => {
    const bundle = path.join(dir, 'trained');
    const exported = await cli(['handoff', 'export', project, ...MODEL, '--out', bundle, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const trained = await new Promise<Ran>((resolve) => {
      const child = spawn(torch!.python, ['train.py', '--device', 'cpu', '--impl', 'builtin'], { cwd: bundle, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr }));
    });
    expect(trained.code, trained.stderr).toBe(0);

    const runs = async () => JSON.parse((await cli(['runs', project, '--json'])).stdout).runs as { id: number; status: string; backend: string | null }[];
    const before = (await runs()).length;
    const killed = await cli(['handoff', 'import', project, bundle, '--json'], { call: 'writeFileSync', arg: 0, pattern: '/model/labels\\.json$' });
    expect(killed.signal).toBe('SIGKILL');
    const after = await runs();
    expect(after).toHaveLength(before);
    const runsDir = `${project}.d/runs`;
    const stray = () => (fs.existsSync(runsDir) ? fs.readdirSync(runsDir).filter((f) => f.startsWith('.')) : []);
    expect(stray().length).toBe(1); // the killed import's staging folder, until the next import sweeps it

    const again = await cli(['handoff', 'import', project, bundle, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const now = await runs();
    expect(now).toHaveLength(before + 1);
    expect(now.filter((r) => r.backend === 'pytorch').map((r) => r.status)).toEqual(['completed']);
    expect(stray()).toEqual([]);
  });
});
