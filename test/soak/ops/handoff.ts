/**
 * The PyTorch hand-off killed, its two commands taking turns.
 *
 * `handoff export … --out DIR --force` (with --copy-images every other time) replacing the bundle
 * an earlier trial wrote: afterwards the project opens and passes its integrity check and DIR is
 * absent, the old complete bundle or the new complete one (handoff-files.ts), never partial. The
 * next export is then run: without --force when DIR is absent, so a sweep that brings the old
 * bundle back shows as a refusal (and an old bundle that nothing brings back counts as lost), then
 * with --force; it must succeed, and the killed export's temporary folders must be gone after it.
 *
 * `handoff import PROJECT BUNDLE` of a bundle that its own train.py trained in set-up (1 epoch,
 * one CPU process, the real PyTorch): afterwards the project opens and passes its integrity check,
 * and the run the import was creating is absent or complete (completed, its model and hand-off
 * record on disk, every epoch of out/metrics.jsonl recorded); a run left queued or running, or
 * completed without its files, is corrupt. When no complete run came of it the import is run
 * again and must succeed; in the end there is exactly one completed imported run more than
 * before. Each trial imports the same bundle, which the import refuses while an earlier trial's
 * run of it exists (one training, one run), so the trial first deletes that run (`runs delete`).
 *
 * A third of the kills land at a kill point (cli.ts `killAt`) rather than at a random moment: the
 * export at the rename that puts the new bundle in place, the import between writing the run's
 * model and completing the run — steps a few microseconds or milliseconds long that a random kill
 * almost never hits. Without a Python with torch the import trials are skipped, saying so.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findPythonWithTorch } from '../../../main/handoff/python-torch';
import { runFolderOf } from '../../../main/project/runs';
import { runCli, startCli, type CliResult, type KillPoint, type KillResult } from '../cli';
import { checkProjectOpens } from '../checks';
import { outcome, type Outcome, type Soak } from '../context';
import { bundleLeftovers, bundleState, describeBundle, folderBytes, importedRunFilesMissing, type BundleState } from '../handoff-files';
import { importedRuns, runs, walBytes, type ImportedRun } from '../inspect';
import { diedAtPoint, killSomewhere, measureWorkWindow } from '../kill-plan';

/** The bundle's run: the soak's tiny model, one epoch (train.py's share of set-up is its start-up). */
const HANDOFF_FLAGS = ['--model', 'custom', '--phi', '-8', '--resolution', '32', '--mode', 'full', '--epochs', '1', '--batch', '4', '--patience', '0', '--no-augment'];

/** Share of the kills that land at a kill point. */
const AT_POINT = 1 / 3;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function exportArgs(soak: Soak, out: string, options: { copyImages: boolean; force: boolean }): string[] {
  return ['handoff', 'export', soak.trainProject, ...HANDOFF_FLAGS, ...(options.copyImages ? ['--copy-images'] : []), '--out', out, ...(options.force ? ['--force'] : []), '--json'];
}

function importArgs(soak: Soak): string[] {
  return ['handoff', 'import', soak.trainProject, soak.handoff.trainedBundle!, '--json'];
}

const failure = (r: CliResult) => `exited ${r.code ?? r.signal}: ${(r.stderr.trim() || r.stdout.trim()).slice(-400)}`;

/** train.py in the bundle, one process on the CPU, as a user without torchrun would run it. */
async function trainBundle(python: string, bundle: string): Promise<void> {
  const child = spawn(python, ['train.py', '--device', 'cpu', '--impl', 'builtin'], { cwd: bundle, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (output += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${python} train.py in ${bundle} exited ${code}:\n${output.slice(-2000)}`);
}

/**
 * One undisturbed export into the trials' target (its duration and work window time the kills),
 * and, where a Python has torch, a bundle trained by train.py and imported once the same way.
 * Returns the set-up line to print.
 */
export async function setUpHandoff(soak: Soak): Promise<string> {
  const h = soak.handoff;
  fs.mkdirSync(path.dirname(h.bundleDir), { recursive: true });
  const exported = await measureWorkWindow(startCli(exportArgs(soak, h.bundleDir, { copyImages: false, force: true }), soak.env), () => bundleLeftovers(h.bundleDir).length > 0);
  if (exported.result.code !== 0) throw new Error(`set-up: handoff export ${failure(exported.result)}`);
  const state = bundleState(h.bundleDir);
  if (state.kind !== 'complete') throw new Error(`set-up: handoff export finished but ${h.bundleDir} is ${describeBundle(state)}`);
  h.bundleStamp = state.createdAt;
  soak.seconds.handoffExport = exported.result.seconds;
  h.windowMs.export = exported.windowMs ?? exported.result.seconds * 1000;
  const exportLine = `handoff export ${exported.result.seconds.toFixed(1)} s`;

  const { found, tried } = findPythonWithTorch();
  if (!found) {
    h.importSkipped = `no Python with torch, numpy and PIL here (${tried.join('; ')})`;
    return `${exportLine}; handoff import trials SKIPPED: ${h.importSkipped}`;
  }
  const trained = path.join(path.dirname(h.bundleDir), 'trained');
  await runCli(exportArgs(soak, trained, { copyImages: false, force: false }), soak.env);
  const trainStarted = performance.now();
  await trainBundle(found.python, trained);
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  h.trainedBundle = trained;

  const project = soak.trainProject;
  const wal = walBytes(project);
  const imported = await measureWorkWindow(startCli(importArgs(soak), soak.env), () => walBytes(project) > wal);
  if (imported.result.code !== 0) throw new Error(`set-up: handoff import ${failure(imported.result)}`);
  const run = JSON.parse(imported.result.stdout.trim()).run;
  const missing = importedRunFilesMissing(runFolderOf(project, run.id), run.classes);
  if (run.status !== 'completed' || missing) throw new Error(`set-up: handoff import made run ${run.id} ${run.status}${missing ? `, ${missing}` : ''}`);
  soak.seconds.handoffImport = imported.result.seconds;
  h.windowMs.import = imported.windowMs ?? imported.result.seconds * 1000;
  return `${exportLine}, train.py ${trainSeconds.toFixed(1)} s (torch ${found.torch}), handoff import ${imported.result.seconds.toFixed(1)} s (${Math.round(h.windowMs.import)} ms of it recording the run)`;
}

/** This trial's kind (export and import take turns; only export without torch) and its outcome. */
export async function handoffTrial(soak: Soak): Promise<{ label: string; result: Outcome }> {
  const h = soak.handoff;
  const n = h.trials++;
  if (h.importSkipped || n % 2 === 0) {
    const exports = h.importSkipped ? n : n / 2;
    return { label: 'handoff export', result: await exportTrial(soak, exports % 2 === 1) };
  }
  return { label: 'handoff import', result: await importTrial(soak) };
}

// ---------- export ----------

async function exportTrial(soak: Soak, copyImages: boolean): Promise<Outcome> {
  const result = outcome();
  const h = soak.handoff;
  const dir = h.bundleDir;
  const old = h.bundleStamp;
  const args = exportArgs(soak, dir, { copyImages, force: true });
  const snapshot = () => ({ state: bundleState(dir), leftovers: bundleLeftovers(dir) });
  const atPoint = soak.random() < AT_POINT;
  // the rename whose destination is the target: the new bundle going into place
  const point: KillPoint = { call: 'renameSync', arg: 1, pattern: `^${escape(dir)}$` };
  const attempt: KillResult<ReturnType<typeof snapshot>> = atPoint
    ? await diedAtPoint(startCli(args, soak.env, point), snapshot)
    : await killSomewhere(soak, 'handoffExport', startCli(args, soak.env), () => bundleLeftovers(dir).length > 0, h.windowMs.export * 1.2, snapshot);

  if (!attempt.killed) {
    if (attempt.result.code !== 0) result.corrupt.push(`handoff export ${failure(attempt.result)}`);
    if (!atPoint) soak.seconds.handoffExport = attempt.result.seconds;
    const state = bundleState(dir);
    if (state.kind !== 'complete' || state.createdAt === old) result.corrupt.push(`handoff export: finished but the target is ${describeBundle(state)}${state.kind === 'complete' ? ' (the old bundle)' : ''}`);
    if (atPoint) result.notes.push('handoff export: finished without reaching the kill point (no rename into the target)');
    h.bundleStamp = state.kind === 'complete' ? state.createdAt : null;
    return result;
  }

  result.killed = true;
  const atKill = attempt.snapshot.state;
  const newAtKill = atKill.kind === 'complete' && atKill.createdAt !== old;
  result.midWork = attempt.snapshot.leftovers.length > 0 || newAtKill;
  const where = atPoint ? ' (killed at the rename into the target)' : '';
  await checkProjectOpens(soak, soak.trainProject, result);
  const after = bundleState(dir);
  if (after.kind === 'partial') result.corrupt.push(`handoff export: after the kill${where} the target is ${describeBundle(after)}`);
  if (newAtKill && !(after.kind === 'complete' && after.createdAt === atKill.createdAt)) result.lost.push(`handoff export: the new bundle was in place at the kill, after it the target is ${describeBundle(after)}`);
  const deadLeftovers = bundleLeftovers(dir).map((name) => ({ name, bytes: folderBytes(path.join(path.dirname(dir), name)) }));

  // the next export, as a user would run it: without --force where the target is absent, so a
  // sweep that puts the old bundle back is seen (a refusal) rather than overwritten unseen
  let next: BundleState = after;
  if (after.kind === 'absent') {
    const plain = await startCli(exportArgs(soak, dir, { copyImages, force: false }), soak.env).done;
    next = bundleState(dir);
    if (plain.code === 0) {
      if (old !== null) result.lost.push(`handoff export: the old bundle (${old}) is gone after the kill${where} and the next export did not bring it back: the target was absent, the new bundle never arrived`);
      if (next.kind !== 'complete') result.corrupt.push(`handoff export: the export after the kill succeeded but the target is ${describeBundle(next)}`);
      else result.recovered++; // the export, at least, is done now
    } else if (/already exists/.test(plain.stdout + plain.stderr) && next.kind === 'complete' && next.createdAt === old) {
      result.recovered++; // the old bundle came back
    } else {
      result.corrupt.push(`handoff export after the kill (target absent, no --force) ${failure(plain)}; the target is now ${describeBundle(next)}`);
    }
  }
  if (next.kind !== 'complete' || next.createdAt === old) {
    const forced = await startCli(args, soak.env).done;
    next = bundleState(dir);
    if (forced.code !== 0) result.corrupt.push(`handoff export --force after the kill ${failure(forced)}`);
    else if (next.kind !== 'complete' || next.createdAt === old) result.corrupt.push(`handoff export --force after the kill finished, the target is ${describeBundle(next)}`);
    else result.recovered++;
  }
  h.bundleStamp = next.kind === 'complete' ? next.createdAt : null;

  const survivors = deadLeftovers.filter((l) => fs.existsSync(path.join(path.dirname(dir), l.name)));
  if (survivors.length > 0) {
    result.corrupt.push(`handoff export: the killed export's temporary folders survive the next export (no sweep): ${survivors.map((l) => `${l.name} (${Math.round(l.bytes / 1024)} KiB)`).join(', ')}`);
    // removed here so that every trial is judged on its own leftovers only
    for (const l of survivors) fs.rmSync(path.join(path.dirname(dir), l.name), { recursive: true, force: true });
  }
  return result;
}

// ---------- import ----------

/** Epochs in the trained bundle's log: what every imported run must record. */
function trainedEpochs(bundle: string): number {
  const epochs = new Set<number>();
  for (const line of fs.readFileSync(path.join(bundle, 'out', 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as { event?: string; epoch?: number };
    if (entry.event === 'epoch' && typeof entry.epoch === 'number') epochs.add(entry.epoch);
  }
  return epochs.size;
}

/** Why a run the import made is not a complete imported run (null: it is). */
function incomplete(soak: Soak, run: ImportedRun, epochs: number): string | null {
  if (run.status !== 'completed') return `run ${run.id} is left ${run.status}`;
  const missing = importedRunFilesMissing(runFolderOf(soak.trainProject, run.id), run.classes);
  if (missing) return `run ${run.id} is completed but ${missing}`;
  if (run.epochs !== epochs) return `run ${run.id} is completed with ${run.epochs} epochs recorded, the bundle's log has ${epochs}`;
  return null;
}

/**
 * The points inside recordRun (import-bundle.ts): the run's files being written into their staging
 * folder (or, as the import wrote before, into the run folder), and the rename that puts the folder
 * in place inside the transaction that records the run.
 */
function importPoint(soak: Soak): { point: KillPoint; label: string } {
  const runsDir = `^${escape(`${path.resolve(soak.trainProject)}.d`)}/runs`;
  const runs = `${runsDir}/(\\d+|\\.import\\.tmp-[^/]+)`;
  const points = [
    { point: { call: 'renameSync', arg: 1, pattern: `${runsDir}/\\d+$` }, label: 'renaming the run folder in, inside the transaction that records the run' },
    { point: { call: 'writeFileSync', arg: 0, pattern: `${runs}/model/labels\\.json$` }, label: 'writing model/labels.json' },
    { point: { call: 'mkdirSync', arg: 0, pattern: `${runs}/handoff$` }, label: 'making the run\'s handoff/ record' },
    { point: { call: 'copyFileSync', arg: 1, pattern: `${runs}/handoff/metrics\\.jsonl$` }, label: 'copying handoff/metrics.jsonl, before the epochs are recorded' },
  ] satisfies { point: KillPoint; label: string }[];
  return points[Math.floor(soak.random() * points.length)];
}

async function importTrial(soak: Soak): Promise<Outcome> {
  const result = outcome();
  const h = soak.handoff;
  const project = soak.trainProject;
  const bundle = h.trainedBundle!;
  const epochs = trainedEpochs(bundle);
  for (const run of importedRuns(project)) await runCli(['runs', 'delete', project, String(run.id), '--yes', '--json'], soak.env);
  const lastBefore = Math.max(0, ...runs(project).map((r) => r.id));
  const completedBefore = importedRuns(project).filter((r) => r.status === 'completed').length;
  const made = () => importedRuns(project).filter((r) => r.id > lastBefore);
  const wal = walBytes(project);
  const atPoint = soak.random() < AT_POINT;
  const { point, label } = importPoint(soak);
  const attempt: KillResult<ImportedRun[]> = atPoint
    ? await diedAtPoint(startCli(importArgs(soak), soak.env, point), made)
    : await killSomewhere(soak, 'handoffImport', startCli(importArgs(soak), soak.env), () => walBytes(project) > wal, h.windowMs.import * 1.2, made);

  if (attempt.killed) {
    result.killed = true;
    result.midWork = attempt.snapshot.length > 0;
    const where = atPoint ? ` (killed ${label})` : '';
    if (!(await checkProjectOpens(soak, project, result))) return result;
    const after = made();
    for (const run of attempt.snapshot) {
      const now = after.find((r) => r.id === run.id);
      if (run.status === 'completed' && now?.status !== 'completed') result.lost.push(`handoff import: run ${run.id} was completed at the kill, after it ${now ? now.status : 'gone'}`);
    }
    for (const run of after) {
      const why = incomplete(soak, run, epochs);
      if (why) result.corrupt.push(`handoff import: after the kill${where} ${why}${run.status === 'completed' ? '' : ': nothing will ever finish or close it'}`);
    }
    // train.py --predict's output file, which the import removes in a finally that a kill skips
    const out = path.join(bundle, 'out');
    const predictions = fs.readdirSync(out).filter((f) => /^predict-\d+\.json$/.test(f));
    if (predictions.length > 0) {
      result.notes.push(`handoff import: the killed import left ${predictions.join(', ')} in the bundle's out/ (removed by the soak)`);
      for (const f of predictions) fs.rmSync(path.join(out, f), { force: true });
    }
    if (!after.some((r) => incomplete(soak, r, epochs) === null)) {
      const again = await startCli(importArgs(soak), soak.env).done;
      if (again.code !== 0) {
        result.corrupt.push(`handoff import after the kill ${failure(again)}`);
        return result;
      }
      result.recovered++;
    }
  } else {
    if (attempt.result.code !== 0) result.corrupt.push(`handoff import ${failure(attempt.result)}`);
    if (atPoint) result.notes.push(`handoff import: finished without reaching the kill point (${label})`);
    else soak.seconds.handoffImport = attempt.result.seconds;
  }
  const final = made();
  const complete = final.filter((r) => incomplete(soak, r, epochs) === null);
  const completedNow = importedRuns(project).filter((r) => r.status === 'completed').length;
  if (complete.length !== 1 || completedNow !== completedBefore + 1) {
    result.corrupt.push(`handoff import: ${completedNow} completed imported runs, ${completedBefore} before the import (runs since: ${final.map((r) => `${r.id} ${r.status}`).join(', ') || 'none'})`);
  }
  return result;
}
