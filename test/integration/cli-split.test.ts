/**
 * `effitune split` as a user types it (bin/effitune.mjs in child processes, temporary EFFITUNE_HOME):
 * counts and fractions per class in --json and readable form, the test split kept on a re-split
 * and dealt again with --reset-test; bad flags refused with the flag named and exit code 1 (those in-process);
 * then `train --plan` on the split project.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importFolder } from '../../main/dataset/import-folder';
import { ProjectRegistry } from '../../main/project/registry';
import { effitune as spawnEffitune, onlyJson, runInProcess } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';

// each run starts Node + tsx; on two busy cores that alone can take seconds
const SLOW = 120_000;

let tmp: string;
let project: string;

/** The real binary, run in this file's temporary folder (EFFITUNE_HOME = <tmp>/home). */
const effitune = (args: string[]) => spawnEffitune(args, { cwd: tmp });

beforeAll(async () => {
  tmp = makeTempDir('cli-split');
  const images = path.join(tmp, 'images');
  for (const [name, count, colour] of [['cats', 10, '#c08040'], ['dogs', 20, '#4080c0']] as const) {
    fs.mkdirSync(path.join(images, name), { recursive: true });
    for (let i = 0; i < count; i++) {
      await sharp({ create: { width: 16 + i, height: 12, channels: 3, background: colour } }).png().toFile(path.join(images, name, `${i}.png`));
    }
  }
  project = path.join(tmp, 'pets.effitune');
  const registry = new ProjectRegistry(path.join(tmp, 'home'));
  registry.create(project);
  await importFolder(registry.get(project), { folder: images, labelsFromFolders: true, jobId: 'setup' });
  registry.closeAll();
}, SLOW);

const homeBefore = process.env.EFFITUNE_HOME;
afterAll(() => {
  if (homeBefore === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = homeBefore;
  removeDir(tmp);
});

describe('effitune split', () => {
  test('prints counts and fractions per class, keeps the test split on a re-split, and resets it on request', { timeout: SLOW }, async () => {
    const first = await effitune(['split', 'pets.effitune', '--val', '0.2', '--test', '0.1', '--seed', '3', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const result = onlyJson(first);
    expect(result.params).toMatchObject({ val: 0.2, test: 0.1, seed: 3, testLocked: true });
    expect(result.classes.map((c: any) => [c.name, c.total, c.train, c.val, c.test])).toEqual([
      ['cats', 10, 7, 2, 1],
      ['dogs', 20, 14, 4, 2],
    ]);
    expect(result.classes[0].fractions).toEqual({ train: 0.7, val: 0.2, test: 0.1 });
    expect(result).toMatchObject({ assigned: 30, moved: 0, totals: { images: 30, train: 21, val: 6, test: 3, unsplit: 0 } });

    // a new seed re-deals train/validation; test stays; readable output
    const second = await effitune(['split', 'pets.effitune', '--seed', '4']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/Split with val 0\.2, test 0\.1, seed 4 \(test split kept from /);
    expect(second.stdout).toMatch(/cats\s+10\s+7 \(70\.0%\)\s+2 \(20\.0%\)\s+1 \(10\.0%\)/);
    expect(second.stdout).toMatch(/total\s+30\s+21 \(70\.0%\)\s+6 \(20\.0%\)\s+3 \(10\.0%\)/);

    const status = onlyJson(await effitune(['status', 'pets.effitune', '--json']));
    expect(status.splits).toEqual({ train: 21, val: 6, test: 3, none: 0 });

    const reset = await effitune(['split', 'pets.effitune', '--test', '0.3', '--reset-test', '--json']);
    expect(reset.code, reset.stderr).toBe(0);
    const after = onlyJson(reset);
    expect(after.testReset).toBe(true);
    expect(after.classes.map((c: any) => c.test)).toEqual([3, 6]);
  });

  // in-process (the same runner, without starting Node for each case)
  test('refuses bad flags, naming the flag, with exit code 1 and a JSON error', { timeout: SLOW }, async () => {
    process.env.EFFITUNE_HOME = path.join(tmp, 'home');
    const cases: [string[], RegExp][] = [
      [['--val', '1'], /--val \(val\): must be below 1/],
      [['--test', 'abc'], /--test \(test\): must be a number/],
      [['--val', '0.6', '--test', '0.5'], /--val \(val\): val \+ test must be below 1/],
      [['--seed=-2'], /--seed \(seed\): must be at least 0/],
      [['--seed', '2.5'], /--seed \(seed\): must be a whole number/],
      [['--vall', '0.2'], /Unknown option '--vall'/],
    ];
    for (const [flags, message] of cases) {
      const run = await runInProcess(['split', project, ...flags, '--json']);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(onlyJson(run).error.code).toBe('invalid_input');
    }
    const missing = await runInProcess(['split', path.join(tmp, 'nowhere.effitune')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nowhere\.effitune does not exist/);
  });

  // once split, `train --plan` says what a run would train with and what one step of it needs
  test("train --plan names a step's memory on the chosen backend: the engine's plans on WebGPU, TF.js's estimate on the CPU", { timeout: SLOW }, async () => {
    process.env.EFFITUNE_HOME = path.join(tmp, 'home');
    const args = ['train', project, '--model', 'b0', '--resolution', '224', '--mode', 'full', '--batch', '32', '--plan'];
    const onGpu = await runInProcess([...args, '--backend', 'webgpu']);
    expect(onGpu.code, onGpu.stderr).toBe(0);
    expect(onGpu.stdout).toMatch(/^b0 full at 224 px: .*batch 32/m);
    expect(onGpu.stdout).toMatch(/^Memory: 2\.\d\d GiB per step at batch 32 on webgpu \(the Effitune engine's step and validation plans, counted\)$/m);
    const onCpu = await runInProcess([...args, '--backend', 'cpu']);
    expect(onCpu.stdout).toMatch(/^Memory: \d+\.\d\d GiB per step at batch 32 on cpu \(TF\.js's estimate\)$/m);
    // no backend named: nothing to count on (the run picks one when it starts)
    expect((await runInProcess(args)).stdout).not.toMatch(/^Memory:/m);
    const json = onlyJson(await runInProcess([...args, '--backend', 'webgpu', '--json']));
    expect(json.stepMemory).toMatchObject({ backend: 'webgpu', batch: 32, engine: 'effitune' });
  });
});
