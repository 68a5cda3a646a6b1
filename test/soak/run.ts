/**
 * The fault-injection soak: `npm run soak [-- --minutes M --seed S --keep]` (not part of `npm test`).
 *
 * For a bounded time (default 5 minutes) it runs the real CLI (`node bin/effitune.mjs`) on small
 * generated projects — import, CSV labeling, undo, training (a tiny phi=-8 model), export, and the
 * PyTorch hand-off's bundle export and import (of a bundle its train.py really trained) — and kills
 * each command with SIGKILL (its whole process group, trainer included) at a random moment. After
 * every kill it opens the project, runs SQLite's integrity check and compares what is on disk with
 * what had been committed at the moment of the kill (see ops/*.ts for each operation's rules), then
 * completes the work (re-import, `train --resume`, the export leftover sweep, the next hand-off
 * export, the import again).
 *
 * Prints per-operation figures and, last, exactly `kills N, corrupt N, lost N`; exits 1 when
 * anything was corrupt or lost, 2 when the soak itself could not run. Everything happens in one temp
 * folder (EFFITUNE_HOME included), removed at the end unless --keep.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../../main/dataset/sample';
import { runCli } from './cli';
import type { OperationName, Outcome, Soak } from './context';
import { writeLabelCsv, writeTrainImages } from './data';
import { labelsByPath } from './inspect';
import { exportTrial } from './ops/export';
import { handoffTrial, setUpHandoff } from './ops/handoff';
import { importArgs, importTrial, nextBatch } from './ops/import';
import { labelTrial } from './ops/label';
import { TRAIN_EPOCHS, trainTrial } from './ops/train';
import { undoTrial } from './ops/undo';
import { Tally } from './tally';

function options(): { minutes: number; seed: number; keep: boolean } {
  const { values } = parseArgs({ options: { minutes: { type: 'string' }, seed: { type: 'string' }, keep: { type: 'boolean' } } });
  const minutes = values.minutes === undefined ? 5 : Number(values.minutes);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!(minutes > 0)) throw new Error(`--minutes: give a positive number of minutes, not "${values.minutes}"`);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed: give a whole number, not "${values.seed}"`);
  return { minutes, seed, keep: values.keep === true };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Two projects, each operation run once undisturbed (its duration times the kills), a run, an
 * export and a hand-off bundle to start from, and a trained bundle to import.
 */
async function setUp(dir: string, seed: number): Promise<Soak> {
  const env = { cwd: dir, home: path.join(dir, 'home') };
  const soak: Soak = {
    dir,
    env,
    random: mulberry32(seed),
    labelProject: path.join(dir, 'labels.effitune'),
    trainProject: path.join(dir, 'train.effitune'),
    runId: null,
    exportDir: path.join(dir, 'exports', 'model'),
    exportStamp: null,
    undoable: null,
    seconds: { import: 0, label: 0, undo: 0, train: 0, export: 0, handoffExport: 0, handoffImport: 0 },
    batches: 0,
    trainFlags: ['--model', 'custom', '--phi', '-8', '--resolution', '32', '--mode', 'full', '--epochs', String(TRAIN_EPOCHS), '--batch', '4', '--patience', '0', '--backend', 'cpu', '--no-augment', '--json'],
    handoff: { bundleDir: path.join(dir, 'handoff', 'bundle'), bundleStamp: null, trainedBundle: null, importSkipped: null, trials: 0, windowMs: { export: 0, import: 0 } },
  };
  fs.mkdirSync(path.dirname(soak.exportDir), { recursive: true });

  await runCli(['project', 'create', soak.labelProject, '--json'], env);
  soak.seconds.import = (await runCli(importArgs(soak, await nextBatch(soak)), env)).seconds;
  const before = labelsByPath(soak.labelProject);
  const csv = path.join(dir, 'labels-setup.csv');
  writeLabelCsv(csv, [...before.keys()], soak.random);
  soak.seconds.label = (await runCli(['label', soak.labelProject, '--csv', csv, '--json'], env)).seconds;
  soak.seconds.undo = soak.seconds.label;
  soak.undoable = { before };

  const images = path.join(dir, 'train-images');
  await writeTrainImages(images, 8, { seed });
  await runCli(['project', 'create', soak.trainProject, '--json'], env);
  await runCli(['import', soak.trainProject, images, '--labels-from-folders', '--json'], env);
  await runCli(['split', soak.trainProject, '--val', '0.3', '--test', '0.2', '--seed', '1', '--json'], env);
  const trained = await runCli(['train', soak.trainProject, ...soak.trainFlags], env);
  soak.seconds.train = trained.seconds;
  soak.runId = trained.json.runId;
  const exported = await runCli(['export', soak.trainProject, '--run', String(soak.runId), '--format', 'tfjs', '--out', soak.exportDir, '--json'], env);
  soak.seconds.export = exported.seconds;
  soak.exportStamp = JSON.parse(fs.readFileSync(path.join(soak.exportDir, 'model-card.json'), 'utf8')).exportedAt;
  const s = soak.seconds;
  log(`set up: import ${s.import.toFixed(1)} s, label ${s.label.toFixed(1)} s, train ${s.train.toFixed(1)} s, export ${s.export.toFixed(1)} s undisturbed`);
  log(`set up: ${await setUpHandoff(soak)}`);
  return soak;
}

/** One trial of `op`; `label` names its line of figures (the hand-off's export and import apart). */
async function trial(soak: Soak, op: OperationName, round: number): Promise<{ label: string; result: Outcome }> {
  switch (op) {
    case 'import':
      return { label: op, result: await importTrial(soak) };
    case 'label':
      return { label: op, result: await labelTrial(soak) };
    case 'undo':
      return { label: op, result: await undoTrial(soak) };
    case 'train':
      return { label: op, result: await trainTrial(soak) };
    case 'export':
      return { label: op, result: await exportTrial(soak, round % 2 === 0 ? 'float16' : 'none') };
    case 'handoff':
      return handoffTrial(soak);
  }
}

/** This round's operations in a random order; undo only when there is a labeling to take back. */
function round(soak: Soak): OperationName[] {
  const ops: OperationName[] = ['import', 'label', 'undo', 'train', 'export', 'handoff'];
  for (let i = ops.length - 1; i > 0; i--) {
    const j = Math.floor(soak.random() * (i + 1));
    [ops[i], ops[j]] = [ops[j], ops[i]];
  }
  return ops;
}

async function main(): Promise<number> {
  const { minutes, seed, keep } = options();
  const deadline = Date.now() + minutes * 60_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-soak-'));
  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    log('stopping after this trial (Ctrl-C again to quit at once)');
  });
  log(`soak: ${minutes} min, seed ${seed}, in ${dir}`);
  const tally = new Tally();
  try {
    const soak = await setUp(dir, seed);
    for (let n = 0; !stopping && Date.now() < deadline; n++) {
      for (const op of round(soak)) {
        if (stopping || Date.now() >= deadline) break;
        if (op === 'undo' && !soak.undoable) continue;
        let label: string = op;
        let result: Outcome;
        try {
          ({ label, result } = await trial(soak, op, n));
        } catch (err) {
          // a check that could not even read the project is a broken project too
          result = { killed: false, midWork: false, corrupt: [`${op}: ${(err as Error).stack ?? (err as Error).message}`], lost: [], recovered: 0, notes: [] };
          // the labels are in an unknown state now: do not judge an undo against a guess
          soak.undoable = null;
        }
        tally.add(label, result);
        log(`${label}: ${result.killed ? (result.midWork ? 'killed mid-work' : 'killed') : 'finished before the kill'}${[...result.corrupt, ...result.lost].map((m) => `\n  ! ${m}`).join('')}${result.notes.map((m) => `\n  ~ ${m}`).join('')}`);
      }
    }
  } finally {
    if (keep) log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const line of tally.lines()) process.stdout.write(`${line}\n`);
  const t = tally.total();
  return t.corrupt > 0 || t.lost > 0 ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    log(`soak could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 2;
  },
);
