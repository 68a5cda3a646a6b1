/**
 * A run whose disk fills up while it trains fails with the reason in words, and `effitune train`
 * exits 4 (a file system error), as every other call on a full disk does, not 5 (a crash). The
 * full disk is the trainer process' own: a preloaded module (test/fixtures/full-disk-preload.mjs)
 * answers ENOSPC when the first checkpoint writes its labels file, as Node's own fs would.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../main/cli/main';
import { EXIT } from '../../main/cli/exit-codes';
import { openDatabase } from '../../main/project/database';
import { getRun } from '../../main/project/runs';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject } from '../fixtures/train-project';

const preload = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/full-disk-preload.mjs');
const saved = { home: process.env.EFFITUNE_HOME, nodeOptions: process.env.NODE_OPTIONS, fullAt: process.env.EFFITUNE_FULL_DISK_AT };

let dir: string;
let file: string;

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

beforeAll(async () => {
  dir = makeTempDir('train-disk-full');
  process.env.EFFITUNE_HOME = path.join(dir, 'home');
  const project = await createTrainProject(dir, 6);
  project.registry.closeAll();
  file = project.file;
}, 60_000);

afterAll(() => {
  restore('EFFITUNE_HOME', saved.home);
  restore('NODE_OPTIONS', saved.nodeOptions);
  restore('EFFITUNE_FULL_DISK_AT', saved.fullAt);
  removeDir(dir);
});

function sink(into: string[]): Writable & { isTTY: boolean } {
  return Object.assign(new Writable({ write: (chunk, _enc, cb) => (into.push(String(chunk)), cb()) }), { isTTY: false });
}

describe('a disk that fills up during training', () => {
  it('fails the run with the reason (ENOSPC, the file) and effitune train exits 4', { timeout: 180_000 }, async () => {
    // the trainer process inherits these: the first checkpoint's files cannot be written
    process.env.NODE_OPTIONS = [saved.nodeOptions, `--import ${pathToFileURL(preload).href}`].filter(Boolean).join(' ');
    process.env.EFFITUNE_FULL_DISK_AT = 'labels.json';
    const out: string[] = [];
    const err: string[] = [];
    let code: number;
    try {
      code = await runCli(['train', file, '--model', 'custom', '--phi', '-8', '--resolution', '32', '--mode', 'full', '--epochs', '2', '--backend', 'cpu', '--no-augment', '--json'], {
        stdout: sink(out),
        stderr: sink(err),
      });
    } finally {
      restore('NODE_OPTIONS', saved.nodeOptions);
      restore('EFFITUNE_FULL_DISK_AT', saved.fullAt);
    }
    expect(code, err.join('')).toBe(EXIT.io);
    const result = JSON.parse(out.join(''));
    expect(result.status).toBe('failed');

    const db = openDatabase(file, { create: false });
    const run = getRun(db, result.runId);
    db.close();
    expect(run.status).toBe('failed');
    expect(run.reason).toMatch(/^cannot write the checkpoint of epoch 1 .*: ENOSPC: no space left on device/);
    expect(run.reason).toMatch(/\.tmp-epoch-0000-\d+\/labels\.json/);
    // nothing was half written where a checkpoint belongs
    expect(fs.readdirSync(path.join(`${file}.d`, 'runs', String(result.runId))).filter((f) => f.startsWith('epoch-'))).toEqual([]);
  });
});
