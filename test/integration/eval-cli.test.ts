/**
 * `effitune eval` as a user types it (bin/effitune.mjs in a child process, temporary EFFITUNE_HOME)
 * on the trained-run fixture: --json prints exactly one Evaluation object (matrix rows = true class,
 * columns = predicted, in the project's class order), the readable form has the metrics, the
 * per-class table and the matrix with class names; bad input is refused in words with the exit
 * code of its kind (those in-process).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Evaluation } from '../../main/contract/calls-eval';
import { createRun } from '../../main/project/runs';
import { effitune as spawnEffitune, onlyJson, runInProcess } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainedRun, type TrainedRun } from '../fixtures/trained-run';

const SLOW = 120_000;

let tmp: string;
let fixture: TrainedRun;
let queuedRun: number;

/** The real binary, run in this file's temporary folder (EFFITUNE_HOME = <tmp>/home). */
const effitune = (args: string[]) => spawnEffitune(args, { cwd: tmp });

beforeAll(async () => {
  tmp = makeTempDir('eval-cli');
  fixture = await createTrainedRun(tmp);
  queuedRun = createRun(fixture.handle.db, { config: {}, variant: 'phi=-8', resolution: 32, classes: ['a', 'b'] }).id;
  fixture.registry.closeAll();
}, SLOW);

const homeBefore = process.env.EFFITUNE_HOME;
afterAll(() => {
  if (homeBefore === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = homeBefore;
  removeDir(tmp);
});

describe('effitune eval', () => {
  test('--json prints one Evaluation; the readable form shows metrics, classes and the matrix', { timeout: SLOW }, async () => {
    const run = await effitune(['eval', 'train.effitune', '--run', String(fixture.runId), '--split', 'val', '--backend', 'wasm', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const e = Evaluation.parse(onlyJson(run));
    expect(e).toMatchObject({ project: fixture.file, runId: fixture.runId, split: 'val', cached: false, skipped: [] });
    expect(e.classes).toEqual(['blue-triangle', 'green-square', 'red-circle']); // the project's order (import: by name)
    expect(e.confusion).toHaveLength(3);
    for (const row of e.confusion) expect(row).toHaveLength(3);
    expect(e.confusion.flat().reduce((a, b) => a + b, 0)).toBe(e.images);
    expect(e.images).toBe(15);

    // the same evaluation, stored: no backend needed
    const text = await effitune(['eval', 'train.effitune', '--run', String(fixture.runId), '--split', 'val']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^Run ${fixture.runId} on the val split: 15 images evaluated \\(stored `));
    expect(text.stdout).toContain(`accuracy ${(100 * e.accuracy!).toFixed(1)} %`);
    expect(text.stdout).toMatch(/CLASS\s+PRECISION\s+RECALL\s+F1\s+SUPPORT\s+PREDICTED/);
    expect(text.stdout).toMatch(/TRUE \\ PREDICTED\s+blue-triangle\s+green-square\s+red-circle/);
    const row = e.confusion[1].join('\\s+');
    expect(text.stdout).toMatch(new RegExp(`\\n  green-square\\s+${row}\\n`));
  });

  // in-process (the same runner, without starting Node for each case)
  test('refuses bad input in words, with the exit code of its kind', { timeout: SLOW }, async () => {
    process.env.EFFITUNE_HOME = path.join(tmp, 'home');
    const project = fixture.file;
    const cases: [string[], number, string, RegExp][] = [
      [['--run', '99'], 2, 'not_found', /there is no training run 99 in this project/],
      [['--run', String(queuedRun)], 1, 'invalid_input', new RegExp(`run ${queuedRun} is queued, not finished`)],
      [['--run', String(fixture.runId), '--split', 'holdout'], 1, 'invalid_input', /--split \(split\): Invalid option: expected one of "train"\|"val"\|"test"/],
      [['--run', 'abc'], 1, 'invalid_input', /--run: "abc" is not a run id \(a whole number, 1 or more\)/],
      [['--run', '0'], 1, 'invalid_input', /--run \(runId\): must be a run id/],
      [[], 1, 'invalid_input', /--run ID is required/],
    ];
    for (const [flags, code, errorCode, message] of cases) {
      const run = await runInProcess(['eval', project, ...flags, '--json']);
      expect(run.code, `${flags.join(' ')}: ${run.stderr}`).toBe(code);
      expect(run.stderr).toMatch(message);
      expect(onlyJson(run).error.code).toBe(errorCode);
    }
    const missing = await runInProcess(['eval', path.join(tmp, 'nowhere.effitune'), '--run', '1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nowhere\.effitune does not exist/);
  });
});
