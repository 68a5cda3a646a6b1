/**
 * The compound-scaling lab through the CLI, as a user runs it: a tiny search trains its candidates
 * as ordinary runs (same subset, seed and split; the test split untouched) and reports the Pareto
 * set and a verdict; a result becomes a family that `train --model custom … --base-phi` trains; a
 * search killed with kill -9 mid-way resumes with its finished candidates kept; bad input is refused
 * by name.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeBackend } from '../../main/backend/probe';
import { effitune, onlyJson } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject } from '../fixtures/train-project';

const cliBin = path.resolve(import.meta.dirname, '../../bin/effitune.mjs');
// six candidates (base, paper, three one-dimension baselines, one grid point), one epoch each, on 24 images
const TINY = ['--base-phi', '-10', '--subset', '24', '--val-subset', '12', '--epochs', '1', '--repeats', '0', '--max-candidates', '1', '--batch', '8'];

let dir: string;
let file: string;
let home: string;

beforeAll(async () => {
  dir = makeTempDir('scale-cli');
  home = path.join(dir, 'home');
  const project = await createTrainProject(dir, 14);
  project.registry.closeAll();
  file = project.file;
}, 60_000);

afterAll(() => removeDir(dir));

const cli = (args: string[]) => effitune(args, { cwd: dir, home });

interface StoredCandidate {
  id: number;
  state: string;
  run_id: number | null;
  epochs_done: number;
}

function stored(searchId: number): StoredCandidate[] {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, state, run_id, epochs_done FROM scaling_candidates WHERE search_id = ? ORDER BY position').all(searchId) as StoredCandidate[];
  } catch {
    return [];
  } finally {
    db.close();
  }
}

describe('effitune scale', () => {
  it('searches, reports the Pareto set and a verdict, keeps a family, and trains it through the CLI', async () => {
    const run = await cli(['scale', 'search', file, ...TINY, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = onlyJson(run);
    expect(report.status).toBe('completed');
    expect(report.plan).toMatchObject({ basePhi: -10, phi: 1, subset: { train: 24, val: 12 }, rungs: [1] });
    expect(report.candidates.map((c: { role: string }) => c.role)).toEqual(['base', 'paper', 'depth', 'width', 'resolution', 'compound']);
    for (const c of report.candidates) {
      if (c.role !== 'base') expect(Math.abs(c.constraint - 2) / 2).toBeLessThanOrEqual(0.05);
      expect(c).toMatchObject({ state: 'finished', epochsDone: 1 });
      expect(c.valAcc).toBeGreaterThanOrEqual(0);
      expect(c.secondsPerImage).toBeGreaterThan(0);
      expect(c.peakMemoryBytes).toBeGreaterThan(10 * 2 ** 20);
    }
    expect(report.paretoFlops.length).toBeGreaterThan(0);
    expect(report.best).not.toBeNull();
    expect(report.verdict[0]).toMatch(/^best: /);

    // each candidate is an ordinary run: on the subset, the candidate's own resolution, never the test split
    const runs = onlyJson(await cli(['runs', file, '--json'])).runs;
    const byId = new Map(runs.map((r: { id: number }) => [r.id, r]));
    for (const c of report.candidates) {
      const r = byId.get(c.runId) as { status: string; variant: string; resolution: number; config: Record<string, unknown> };
      expect(r).toMatchObject({ status: 'completed', variant: c.model, resolution: c.resolution });
      expect(r.config.subset).toEqual({ train: 24, val: 12, seed: 1 });
    }

    const shown = await cli(['scale', 'show', file, String(report.id)]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/pareto/);
    expect(shown.stdout).toMatch(/resolution alone/);

    const chosen = onlyJson(await cli(['scale', 'choose', file, String(report.id), '--json'])).family;
    expect(chosen).toMatchObject({ alpha: report.best.alpha, beta: report.best.beta, gamma: report.best.gamma, basePhi: -10, searchId: report.id });
    expect(onlyJson(await cli(['scale', 'families', file, '--json'])).families.map((f: { id: number }) => f.id)).toEqual([chosen.id]);

    // the base network does not scale: refused by name
    const base = report.candidates[0];
    const refused = await cli(['scale', 'choose', file, String(report.id), '--candidate', String(base.id)]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/is the base network itself/);

    const explored = onlyJson(await cli(['scale', 'explore', '--alpha', String(chosen.alpha), '--beta', String(chosen.beta), '--gamma', String(chosen.gamma), '--base-phi', '-10', '--project', file, '--search', String(report.id), '--json']));
    expect(explored.variants.map((v: { model: string }) => v.model)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7']);
    const flops = explored.family.map((r: { flops: number }) => r.flops);
    expect([...flops].sort((a, b) => a - b)).toEqual(flops);
    expect(explored.family.every((r: { secondsPerImage: number | null }) => r.secondsPerImage !== null && r.secondsPerImage > 0)).toBe(true);

    // scale up: the family at φ 2, built and trained like any variant
    const trained = await cli(['train', file, '--model', 'custom', '--phi', '2', '--alpha', String(chosen.alpha), '--beta', String(chosen.beta), '--gamma', String(chosen.gamma), '--base-phi', '-10', '--mode', 'full', '--epochs', '1', '--batch', '8', '--json']);
    expect(trained.code, trained.stderr).toBe(0);
    const outcome = onlyJson(trained);
    expect(outcome.status).toBe('completed');
    const familyRun = onlyJson(await cli(["runs", file, "--json"])).runs.find((r: { id: number }) => r.id === outcome.runId);
    expect(familyRun.variant).toBe(`phi=2,alpha=${chosen.alpha},beta=${chosen.beta},gamma=${chosen.gamma},base=-10`);
  }, 400_000);

  it('resumes after kill -9 mid-search with its finished candidates kept', async () => {
    const child = spawn(process.execPath, [cliBin, 'scale', 'search', file, ...TINY, '--json'], { cwd: dir, env: { ...process.env, EFFITUNE_HOME: home }, stdio: 'ignore', detached: true });
    const searchId = await latestSearchId();
    const end = Date.now() + 240_000;
    let before: StoredCandidate[] = [];
    while (Date.now() < end) {
      before = stored(searchId);
      if (before.filter((c) => c.state === 'finished').length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const finished = before.filter((c) => c.state === 'finished');
    expect(finished.length).toBeGreaterThanOrEqual(2);

    const shown = onlyJson(await cli(['scale', 'show', file, String(searchId), '--json']));
    expect(shown.status).toBe('stopped');
    expect(shown.reason).toMatch(/interrupted/);

    const resumed = await cli(['scale', 'resume', file, String(searchId), '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = onlyJson(resumed);
    expect(report.status).toBe('completed');
    expect(report.candidates.every((c: { state: string }) => c.state === 'finished')).toBe(true);
    // what had finished is kept as it was: same runs, not trained again
    for (const f of finished) expect(report.candidates.find((c: { id: number }) => c.id === f.id)).toMatchObject({ runId: f.run_id, epochsDone: f.epochs_done });
    const runIds = report.candidates.map((c: { runId: number }) => c.runId);
    expect(new Set(runIds).size).toBe(runIds.length);

    const again = await cli(['scale', 'resume', file, String(searchId)]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/completed: there is nothing to resume/);
  }, 400_000);

  it('refuses bad input by name', async () => {
    const grid = await cli(['scale', 'search', file, '--grid', 'huge']);
    expect(grid.code).not.toBe(0);
    expect(grid.stderr).toMatch(/--grid/);
    const budget = await cli(['scale', 'search', file, '--budget-flops', '1000']);
    expect(budget.code).not.toBe(0);
    expect(budget.stderr).toMatch(/budgetFlops|--budget-flops/);
    const precision = await cli(['scale', 'search', file, '--precision', 'half']);
    expect(precision.code).not.toBe(0);
    expect(precision.stderr).toMatch(/--precision/);
    // mixed precision where the adapter has no shader-f16 (SwiftShader) is refused before a candidate trains
    const webgpu = await probeBackend('webgpu');
    if (!webgpu.gpuFeatures?.includes('shader-f16')) {
      const mixed = await cli(['scale', 'search', file, '--precision', 'mixed', ...TINY]);
      expect(mixed.code).not.toBe(0);
      expect(mixed.stderr).toMatch(/--precision \(precision\): mixed trains every candidate on the Effitune WebGPU engine in float16 activations, and (this GPU \(.*\) has no shader-f16|WebGPU cannot train here)/);
      const list = await cli(['scale', 'list', file, '--json']);
      expect((onlyJson(list).searches as { plan: { precision?: string } }[]).some((s) => s.plan.precision === 'mixed')).toBe(false);
    }
    const missing = await cli(['scale', 'show', file, '999']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/search 999 does not exist/);
  }, 60_000);
});

async function latestSearchId(): Promise<number> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    try {
      const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare("SELECT id FROM scaling_searches WHERE status = 'running' ORDER BY id DESC LIMIT 1").get() as { id: number } | undefined;
        if (row) return row.id;
      } finally {
        db.close();
      }
    } catch {
      // not migrated yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no search started within 60 s');
}
