/**
 * Defaults that cannot fail silently, and deleting runs, behind the service and the CLI: head and
 * top modes without weights are refused by train.start and train.estimate before any work (the
 * field and both ways out named); a run whose model is no better than guessing says so in its
 * record, in `effitune train`'s result and in `effitune runs`; a run is deleted with its folder
 * after `--yes`, and a run that trains is refused as busy until it is cancelled.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Service } from '../../main/service/service';
import { runCli } from '../../main/cli/main';
import { runFolderOf } from '../../main/project/runs';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject } from '../fixtures/train-project';

const TINY = { model: 'phi=-8', resolution: 32, backend: 'cpu' as const, augment: false as const, batch: 8 };
const TINY_FLAGS = ['--model', 'custom', '--phi', '-8', '--resolution', '32', '--backend', 'cpu', '--batch', '8', '--no-augment'];

let dir: string;
let file: string;
let service: Service;
const savedHome = process.env.EFFITUNE_HOME;

function sink(into: string[]): Writable & { isTTY: boolean } {
  return Object.assign(new Writable({ write: (chunk, _enc, cb) => (into.push(String(chunk)), cb()) }), { isTTY: false });
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { stdout: sink(out), stderr: sink(err) });
  return { code, out: out.join(''), err: err.join('') };
}

beforeAll(async () => {
  dir = makeTempDir('run-guards');
  process.env.EFFITUNE_HOME = path.join(dir, 'home');
  const project = await createTrainProject(dir, 10);
  project.registry.closeAll();
  file = project.file;
  service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
}, 60_000);

afterAll(() => {
  service?.close();
  if (savedHome === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = savedHome;
  removeDir(dir);
});

describe('head and top modes on a random backbone', () => {
  it('train.start and train.estimate refuse them before any work, naming the field and both ways out', async () => {
    for (const name of ['train.start', 'train.estimate'] as const) {
      for (const mode of ['head', 'top'] as const) {
        await expect(service.call(name, { project: file, ...TINY, mode })).rejects.toMatchObject({
          code: 'invalid_input',
          message: expect.stringMatching(new RegExp(`^weights: mode ${mode} keeps .* frozen, and without pretrained weights that backbone is random.*Model tab.*effitune weights import <file>.*or use mode full`)),
          details: { field: 'weights', mode },
        });
      }
    }
    // a run that leaves the mode out is never refused for this: without weights it trains in full mode
    expect((await service.call('train.plan', { project: file, ...TINY })).config).toMatchObject({ mode: 'full', weights: null });
    // a named variant is told its download command
    await expect(service.call('train.start', { project: file, ...TINY, model: 'b0', mode: 'top' })).rejects.toMatchObject({ message: expect.stringContaining('`effitune weights download b0 --notop`') });
    // the data is still checked first: a project that cannot train says why, not this
    const empty = path.join(dir, 'empty.effitune');
    await service.call('project.create', { path: empty });
    await expect(service.call('train.start', { project: empty, ...TINY })).rejects.toMatchObject({ message: expect.stringMatching(/no labeled images/) });

    expect((await service.call('runs.list', { project: file })).runs).toEqual([]);
    expect((await service.call('train.active', {})).runs).toEqual([]);
  });

  it('the CLI names the flag and trains nothing', async () => {
    const refused = await cli(['train', file, ...TINY_FLAGS, '--mode', 'top']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/--weights \(weights\): mode top keeps every block below the top ones frozen/);
    const estimate = await cli(['train', file, ...TINY_FLAGS, '--mode', 'head', '--estimate']);
    expect(estimate.code).toBe(1);
    expect(estimate.err).toMatch(/--weights \(weights\): mode head/);
    expect((await service.call('runs.list', { project: file })).runs).toEqual([]);
  });
});

describe('a run no better than guessing, and deleting runs', () => {
  let uselessRunId: number;

  it('is marked in its record, in the result of effitune train and in effitune runs', { timeout: 180_000 }, async () => {
    // a zero classifier with a vanishing learning rate predicts the same class for every image:
    // exactly chance on these balanced classes
    const trained = await cli(['train', file, ...TINY_FLAGS, '--mode', 'full', '--epochs', '1', '--lr', '1e-12', '--patience', '0']);
    expect(trained.code, trained.err).toBe(0);
    expect(trained.out).toMatch(/^Run \d+ completed on cpu/);
    expect(trained.out).toMatch(/\n {2}warning: validation accuracy 33\.3 % is not above chance \(33\.3 % with 3 classes\): the model has not learned to tell the classes apart/);

    const [run] = (await service.call('runs.list', { project: file })).runs;
    uselessRunId = run.id;
    expect(run.status).toBe('completed');
    expect(run.baseline).toMatchObject({ valAcc: 1 / 3, chance: 1 / 3, majority: 1 / 3, aboveBaseline: false, warning: expect.stringMatching(/not above chance/) });

    const listed = await cli(['runs', file]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`${run.id} +completed, no better than guessing \\*`));
    expect(listed.out).toContain(`* run ${run.id}: validation accuracy 33.3 % is not above chance`);
    const one = await cli(['runs', file, String(run.id)]);
    expect(one.out).toMatch(/\n {2}warning: validation accuracy 33\.3 % is not above chance/);
  });

  it('deletes a finished run and its folder only after --yes', { timeout: 60_000 }, async () => {
    const id = uselessRunId;
    const folder = runFolderOf(file, id);
    expect(fs.existsSync(path.join(folder, 'model', 'model.json'))).toBe(true);

    const unconfirmed = await cli(['runs', 'delete', file, String(id)]);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.err).toMatch(new RegExp(`deleting run ${id} \\(phi=-8, completed, 1 epochs\\) removes its record and its folder .* for good: add --yes to confirm`));
    expect(fs.existsSync(folder)).toBe(true);

    const deleted = await cli(['runs', 'delete', file, String(id), '--yes']);
    expect(deleted.code, deleted.err).toBe(0);
    expect(deleted.out.trim()).toBe(`Deleted run ${id} and its folder ${folder}`);
    expect(fs.existsSync(folder)).toBe(false);
    await expect(service.call('runs.get', { project: file, id })).rejects.toMatchObject({ code: 'not_found' });
    const { db } = service.projects.get(file);
    for (const table of ['epochs', 'run_notes']) expect(db.prepare(`SELECT COUNT(*) FROM ${table} WHERE run_id = ?`).pluck().get(id)).toBe(0);
    await expect(service.call('runs.delete', { project: file, id })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses a run that trains (busy) until it is cancelled, then deletes it', { timeout: 180_000 }, async () => {
    const events: unknown[] = [];
    const stop = service.onEvent((event, payload) => event === 'runs.deleted' && events.push(payload));
    const started = await service.call('train.start', { project: file, ...TINY, batch: 4, mode: 'full', epochs: 50 });
    const id = started.run.id;
    expect(id).toBeGreaterThan(uselessRunId); // a deleted run's id is not given again
    await expect(service.call('runs.delete', { project: file, id })).rejects.toMatchObject({ code: 'busy', message: `run ${id} is training in this app: cancel it and wait for it to stop before deleting it` });
    const refused = await cli(['runs', 'delete', file, String(id), '--yes']);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(new RegExp(`run ${id} is running: cancel it \\(or let it finish\\) before deleting it`));
    expect(fs.existsSync(runFolderOf(file, id))).toBe(true);

    await service.call('train.cancel', { project: file, runId: id });
    const deleted = await service.call('runs.delete', { project: file, id });
    expect(deleted).toEqual({ id, folder: runFolderOf(file, id), folderExisted: true });
    expect(fs.existsSync(runFolderOf(file, id))).toBe(false);
    expect(events).toEqual([{ project: file, runId: id }]);
    stop();
  });
});
