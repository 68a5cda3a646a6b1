/**
 * `effitune export` and `effitune predict` as a user types them (bin/effitune.mjs in child processes,
 * temporary EFFITUNE_HOME) on a project with one tiny finished run: --json prints one object of the
 * contract's shape, an existing --out is refused with the already_exists exit code and replaced with
 * --force, predict lists top-k per image and writes a CSV; bad input (unknown or unfinished run, bad
 * format, missing --out or --run, no model) is refused naming the flag, with its exit code (in-process).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportResult } from '../../main/contract/calls-export';
import { exportCalls } from '../../main/contract/calls-export';
import { TrainOptions } from '../../main/contract/calls-train';
import { EXIT } from '../../main/cli/exit-codes';
import { createTrainingRun } from '../../main/train/new-run';
import { effitune as spawnEffitune, onlyJson, runInProcess } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainedRun } from '../fixtures/trained-run';

const SLOW = 180_000;

let tmp: string;
let project: string;
let runId: number;
let queuedRunId: number;
let images: string;

/** The real binary, run in this file's temporary folder (EFFITUNE_HOME = <tmp>/home). */
const effitune = (args: string[]) => spawnEffitune(args, { cwd: tmp });

const homeBefore = process.env.EFFITUNE_HOME;

beforeAll(async () => {
  tmp = makeTempDir('export-cli');
  // the in-process CLI runs use the same app folder as the child processes
  process.env.EFFITUNE_HOME = path.join(tmp, 'home');
  const trained = await createTrainedRun(tmp);
  project = trained.file;
  runId = trained.runId;
  images = trained.images;
  queuedRunId = createTrainingRun(trained.handle, TrainOptions.parse({ model: 'phi=-8', resolution: 32, batch: 8, mode: 'full', epochs: 1 })).run.id;
  trained.registry.closeAll();
}, SLOW);

afterAll(() => {
  if (homeBefore === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = homeBefore;
  removeDir(tmp);
});

describe('effitune export', () => {
  it('--json prints the export result; an existing --out is refused, --force replaces it', async () => {
    const out = path.join(tmp, 'exported');
    const first = await effitune(['export', project, '--run', String(runId), '--format', 'tfjs', '--quantize', 'uint8', '--out', out, '--json']);
    expect(first.code, first.stderr).toBe(EXIT.ok);
    const result = ExportResult.parse(onlyJson(first));
    expect(result).toMatchObject({ runId, format: 'tfjs', quantize: 'uint8', dir: out, replaced: false });
    expect(result.precisions.map((p) => p.quantize)).toEqual(['none', 'uint8']);
    expect(result.precisions[1].modelBytes).toBeLessThan(result.precisions[0].modelBytes);
    expect(fs.existsSync(path.join(out, 'model.json'))).toBe(true);
    // progress went to stderr, never into the JSON on stdout
    expect(first.stderr).toContain('predicting the test split');

    const again = await runInProcess(['export', project, '--run', String(runId), '--format', 'tfjs', '--out', out, '--json']);
    expect(again.code).toBe(EXIT.conflict);
    expect(onlyJson(again).error).toMatchObject({ code: 'already_exists', message: expect.stringContaining(out) });
    expect(again.stderr).toContain('--force');

    const forced = await runInProcess(['export', project, '--run', String(runId), '--format', 'onnx', '--out', out, '--force']);
    expect(forced.code, forced.stderr).toBe(EXIT.ok);
    expect(forced.stdout).toContain(`Exported run ${runId} as ONNX to ${out} (replaced the old folder)`);
    expect(forced.stdout).toMatch(/float32 +[\d.]+ KiB +[\d.]+ %/);
    expect(fs.existsSync(path.join(out, 'model.onnx'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'model.json'))).toBe(false);
  }, SLOW);

  it('refuses an unknown run, an unfinished run, a bad format and missing flags, naming them', async () => {
    const out = path.join(tmp, 'never');
    const unknown = await runInProcess(['export', project, '--run', '42', '--format', 'tfjs', '--out', out, '--json']);
    expect(unknown.code).toBe(EXIT.notFound);
    expect(onlyJson(unknown).error.message).toContain('run 42');

    const unfinished = await runInProcess(['export', project, '--run', String(queuedRunId), '--format', 'tfjs', '--out', out, '--json']);
    expect(unfinished.code).toBe(EXIT.usage);
    expect(onlyJson(unfinished).error.message).toContain(`run ${queuedRunId} has not finished`);

    const format = await runInProcess(['export', project, '--run', String(runId), '--format', 'savedmodel', '--out', out, '--json']);
    expect(format.code).toBe(EXIT.usage);
    expect(onlyJson(format).error.message).toContain('--format');

    const quantize = await runInProcess(['export', project, '--run', String(runId), '--quantize', 'int4', '--out', out]);
    expect(quantize.code).toBe(EXIT.usage);
    expect(quantize.stderr).toContain('--quantize');

    const noOut = await runInProcess(['export', project, '--run', String(runId)]);
    expect(noOut.code).toBe(EXIT.usage);
    expect(noOut.stderr).toContain('--out');
    const noRun = await runInProcess(['export', project, '--out', out]);
    expect(noRun.code).toBe(EXIT.usage);
    expect(noRun.stderr).toContain('--run');
    const badRun = await runInProcess(['export', project, '--run', 'latest', '--out', out]);
    expect(badRun.code).toBe(EXIT.usage);
    expect(badRun.stderr).toContain('--run');
    expect(fs.existsSync(out)).toBe(false);
  }, SLOW);
});

describe('effitune predict', () => {
  it('--json lists top-k per image of a folder and writes the CSV', async () => {
    const model = path.join(tmp, 'for-predict');
    expect((await runInProcess(['export', project, '--run', String(runId), '--format', 'onnx', '--out', model])).code).toBe(EXIT.ok);
    const csv = path.join(tmp, 'predictions.csv');
    const run = await effitune(['predict', model, path.join(images, 'red-circle'), path.join(tmp, 'nothing.png'), '--top', '2', '--csv', csv, '--json']);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const result = exportCalls['predict.files'].output.parse(onlyJson(run));
    const files = fs.readdirSync(path.join(images, 'red-circle'));
    expect(result.format).toBe('onnx');
    expect(result.predictions).toHaveLength(files.length + 1);
    const ok = result.predictions.filter((p) => p.error === null);
    expect(ok).toHaveLength(files.length);
    expect(ok.every((p) => p.top.length === 2)).toBe(true);
    // a tiny model that learned the shapes: most red circles are red circles
    expect(ok.filter((p) => p.top[0].className === 'red-circle').length).toBeGreaterThan(files.length / 2);
    expect(result.predictions.find((p) => p.path.endsWith('nothing.png'))!.error).toContain('no such file');
    expect(fs.readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(files.length + 2);
  }, SLOW);

  it('prints readable lines, and exit code 2 when nothing could be classified or there is no model', async () => {
    const text = await runInProcess(['predict', path.join(tmp, 'for-predict'), path.join(images, 'green-square'), '--top', '1']);
    expect(text.code, text.stderr).toBe(EXIT.ok);
    expect(text.stdout).toMatch(/green-square-\d+\.png\n {2}\S+ +\d+\.\d\d %/);
    expect(text.stdout).toMatch(/images classified; onnx model, 32 px/);

    const broken = path.join(tmp, 'broken.jpg');
    fs.writeFileSync(broken, 'not a jpeg');
    const none = await runInProcess(['predict', path.join(tmp, 'for-predict'), broken, '--json']);
    expect(none.code).toBe(EXIT.notFound);
    expect(onlyJson(none).predictions[0].error).toContain('broken.jpg');

    const noModel = await runInProcess(['predict', tmp, broken, '--json']);
    expect(noModel.code).toBe(EXIT.notFound);
    expect(onlyJson(noModel).error.message).toContain('neither model.json');

    const noImages = await runInProcess(['predict', path.join(tmp, 'for-predict')]);
    expect(noImages.code).toBe(EXIT.usage);
    expect(noImages.stderr).toContain('missing <image-or-folder...>');
  }, SLOW);
});
