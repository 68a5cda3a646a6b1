/**
 * The CSV of `predict.files` / `effitune predict --csv FILE`: an existing file is refused (naming it
 * and --force) before any model loads, and replaced only with force and only when it is a plain
 * file; a folder, an image name or a project name is never written. The file is written whole or
 * not at all: a failing rename leaves the old file and no temporary sibling, and temporaries that a
 * killed prediction left (pid of an exited process) are swept.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { exportCalls } from '../../main/contract/calls-export';
import type { FilePrediction } from '../../main/contract/calls-export';
import { EXIT } from '../../main/cli/exit-codes';
import { predictFiles } from '../../main/export/predict/predict-files';
import { checkCsvTarget, predictionsCsvText, writeCsvAtomically } from '../../main/export/predict/predictions-csv';
import { runInProcess } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
let csv: string;
const homeBefore = process.env.EFFITUNE_HOME;

const predictions: FilePrediction[] = [
  { path: '/photos/a.jpg', top: [{ className: 'cat', probability: 0.75 }, { className: 'dog', probability: 0.25 }], error: null },
  { path: '/photos/b, with comma.jpg', top: [], error: 'cannot decode' },
];

beforeAll(() => {
  process.env.EFFITUNE_HOME = makeTempDir('predict-csv-home');
});
afterAll(() => {
  removeDir(process.env.EFFITUNE_HOME);
  if (homeBefore === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = homeBefore;
});
beforeEach(() => {
  dir = makeTempDir('predict-csv');
  csv = path.join(dir, 'predictions.csv');
});
afterEach(() => {
  vi.restoreAllMocks();
  removeDir(dir);
});

describe('the target of a predictions CSV', () => {
  it('refuses an existing file without force, naming it and --force', () => {
    fs.writeFileSync(csv, 'precious');
    expect(() => checkCsvTarget(csv, false)).toThrow(expect.objectContaining({ code: 'already_exists', message: expect.stringContaining(`${csv} already exists`) }));
    expect(() => checkCsvTarget(csv, false)).toThrow(/--force to replace it/);
    expect(checkCsvTarget(csv, true)).toBe(csv);
    expect(fs.readFileSync(csv, 'utf8')).toBe('precious');
  });

  it('never takes a folder, an image or a project file, even with force', () => {
    fs.mkdirSync(path.join(dir, 'folder.csv'));
    expect(() => checkCsvTarget(path.join(dir, 'folder.csv'), true)).toThrow(expect.objectContaining({ code: 'already_exists', message: expect.stringContaining('is an existing folder') }));
    for (const name of ['photo.JPG', 'scan.png', 'birds.effitune', 'birds.effitune-wal']) {
      fs.writeFileSync(path.join(dir, name), 'keep');
      expect(() => checkCsvTarget(path.join(dir, name), true)).toThrow(expect.objectContaining({ code: 'invalid_input', message: expect.stringContaining(name) }));
      expect(fs.readFileSync(path.join(dir, name), 'utf8')).toBe('keep');
    }
    expect(() => checkCsvTarget(path.join(dir, 'missing', 'p.csv'), false)).toThrow(expect.objectContaining({ code: 'not_found' }));
  });
});

describe('writing the predictions CSV', () => {
  const text = predictionsCsvText(predictions, 2);

  it('writes path, top-k and error per image, quoting where needed', () => {
    expect(text).toBe('path,top1,probability1,top2,probability2,error\n/photos/a.jpg,cat,0.750000,dog,0.250000,\n"/photos/b, with comma.jpg",,,,,cannot decode\n');
  });

  it('writes a new file, replaces a plain file only with force, and leaves nothing else', () => {
    writeCsvAtomically(csv, text, false);
    expect(fs.readFileSync(csv, 'utf8')).toBe(text);
    fs.writeFileSync(csv, 'appeared while predicting');
    expect(() => writeCsvAtomically(csv, text, false)).toThrow(expect.objectContaining({ code: 'already_exists', message: expect.stringContaining('appeared while predicting') }));
    expect(fs.readFileSync(csv, 'utf8')).toBe('appeared while predicting');
    writeCsvAtomically(csv, text, true);
    expect(fs.readFileSync(csv, 'utf8')).toBe(text);
    expect(fs.readdirSync(dir)).toEqual(['predictions.csv']);
  });

  it('keeps the old file whole when the new one cannot be put in place', () => {
    fs.writeFileSync(csv, 'old predictions');
    vi.spyOn(fs, 'renameSync').mockImplementation(() => {
      throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
    });
    expect(() => writeCsvAtomically(csv, text, true)).toThrow(expect.objectContaining({ code: 'io_error', message: expect.stringContaining(csv) }));
    vi.restoreAllMocks();
    expect(fs.readFileSync(csv, 'utf8')).toBe('old predictions');
    expect(fs.readdirSync(dir)).toEqual(['predictions.csv']);
  });

  it('sweeps the temporary files a killed prediction left for this name', async () => {
    const dead = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', () => resolve(child.pid!));
    });
    fs.writeFileSync(path.join(dir, `.predictions.csv.tmp-${dead}-0a1b2c3d`), 'half');
    fs.writeFileSync(path.join(dir, `.predictions.csv.tmp-${process.ppid}-11223344`), 'a live writer');
    fs.writeFileSync(path.join(dir, `.other.csv.tmp-${dead}-55667788`), 'another name');
    writeCsvAtomically(csv, text, false);
    expect(fs.readdirSync(dir).sort()).toEqual([`.other.csv.tmp-${dead}-55667788`, `.predictions.csv.tmp-${process.ppid}-11223344`, 'predictions.csv'].sort());
  });
});

describe('predict.files and effitune predict --csv', () => {
  it('refuses an existing CSV before loading the model, and leaves it as it was', async () => {
    fs.writeFileSync(csv, 'precious');
    const args = exportCalls['predict.files'].input.parse({ modelDir: path.join(dir, 'no-model'), paths: [dir], csv });
    expect(args.force).toBe(false);
    await expect(predictFiles(args)).rejects.toMatchObject({ code: 'already_exists', message: expect.stringContaining(csv) });
    expect(fs.readFileSync(csv, 'utf8')).toBe('precious');
  });

  it('exits with the conflict code naming the file and --force; --force gets past the CSV check', async () => {
    fs.writeFileSync(csv, 'precious');
    const refused = await runInProcess(['predict', path.join(dir, 'no-model'), dir, '--csv', csv]);
    expect(refused.code, refused.stderr).toBe(EXIT.conflict);
    expect(refused.stderr).toContain(csv);
    expect(refused.stderr).toContain('--force to replace it');
    // with --force the next thing in the way is the missing model, and the CSV is not touched by that
    const forced = await runInProcess(['predict', path.join(dir, 'no-model'), dir, '--csv', csv, '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(EXIT.notFound);
    expect(fs.readFileSync(csv, 'utf8')).toBe('precious');
  });
});
