/**
 * What a killed export leaves next to its target, and the next export's clean-up: temporary
 * `.NAME.tmp-PID-HEX` folders of dead processes are deleted, an `.NAME.old-PID-HEX` aside (killed
 * between the two renames of --force) is put back when its name is missing and deleted when the new
 * folder made it in; leftovers of live processes (younger than the stale limit) and unrelated hidden
 * folders are left alone. The crash states are made by hand, with the pid of a process that has exited.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { commitFolder, LEFTOVER_STALE_MS, parseLeftover, processIsAlive, stageFolder, sweepFolderLeftovers } from '../../main/export/atomic-folder';
import { makeTempDir, removeDir } from '../fixtures/temp';

let deadPid: number;
let dir: string;

/** A process id that was real a moment ago and is no longer running. */
function exitedPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

/** A folder with one file, as an export (or a part of one) would be. */
function folderWith(name: string, file: string, text: string): string {
  const full = path.join(dir, name);
  fs.mkdirSync(full);
  fs.writeFileSync(path.join(full, file), text);
  return full;
}

beforeAll(async () => {
  deadPid = await exitedPid();
  expect(processIsAlive(deadPid)).toBe(false);
});
beforeEach(() => {
  dir = makeTempDir('export-leftovers');
});
afterEach(() => {
  vi.restoreAllMocks();
  removeDir(dir);
});

describe('leftovers of killed exports', () => {
  it('names them by target, kind, pid and token', () => {
    expect(parseLeftover(`.model.tmp-${deadPid}-0a1b2c3d`)).toEqual({ name: 'model', kind: 'temp', pid: deadPid, token: '0a1b2c3d' });
    expect(parseLeftover('.my.export.old-42-ffffffff')).toEqual({ name: 'my.export', kind: 'aside', pid: 42, token: 'ffffffff' });
    // how asides were named before
    expect(parseLeftover('.model.tmp-42-0a1b2c3d.old')).toMatchObject({ name: 'model', kind: 'aside', pid: 42 });
    for (const other of ['.git', '.model.tmp-42', '.tmp-epoch-0003-42', '.model.tmp-x-0a1b2c3d', 'model.tmp-42-0a1b2c3d']) expect(parseLeftover(other)).toBeNull();
  });

  it('deletes the temporary folders of dead processes when an export starts in that folder', () => {
    folderWith(`.out.tmp-${deadPid}-0a1b2c3d`, 'model.onnx', 'half written');
    folderWith(`.other.tmp-${deadPid}-11223344`, 'model.json', 'half written');
    folderWith('.git', 'HEAD', 'unrelated');
    folderWith('kept', 'a.txt', 'a user folder');
    const staged = stageFolder(path.join(dir, 'out'), false);
    expect(fs.readdirSync(dir).sort()).toEqual(['.git', path.basename(staged.temp), 'kept'].sort());
  });

  it('leaves the leftovers of live processes alone unless they are older than the stale limit', () => {
    const ours = folderWith(`.out.tmp-${process.pid}-0a1b2c3d`, 'a', 'this process is writing it');
    const young = folderWith(`.out.tmp-${process.ppid}-11223344`, 'a', 'a live process is writing it');
    const old = folderWith(`.old-one.tmp-${process.ppid}-55667788`, 'a', 'a reused pid');
    const longAgo = (Date.now() - LEFTOVER_STALE_MS - 3600_000) / 1000;
    fs.utimesSync(old, longAgo, longAgo);
    const report = sweepFolderLeftovers(dir);
    expect(report.removed).toEqual([old]);
    expect(fs.existsSync(ours) && fs.existsSync(young)).toBe(true);
  });

  it('puts the old export back when a --force was killed between its two renames', () => {
    // killed after `out` was renamed aside and before the new folder was renamed in
    folderWith(`.out.old-${deadPid}-0a1b2c3d`, 'model.json', 'the previous export');
    folderWith(`.out.tmp-${deadPid}-0a1b2c3d`, 'model.json', 'the unfinished new one');
    // the same with the name asides had before
    folderWith(`.legacy.tmp-${deadPid}-99887766.old`, 'model.json', 'an older export');
    const report = sweepFolderLeftovers(dir);
    expect(report.restored.sort()).toEqual([path.join(dir, 'legacy'), path.join(dir, 'out')]);
    expect(fs.readdirSync(dir).sort()).toEqual(['legacy', 'out']);
    expect(fs.readFileSync(path.join(dir, 'out', 'model.json'), 'utf8')).toBe('the previous export');
    expect(fs.readFileSync(path.join(dir, 'legacy', 'model.json'), 'utf8')).toBe('an older export');
  });

  it('restores before refusing: the next export into the same name without --force is refused, the old one intact', () => {
    folderWith(`.out.old-${deadPid}-0a1b2c3d`, 'model.json', 'the previous export');
    expect(() => stageFolder(path.join(dir, 'out'), false)).toThrow(expect.objectContaining({ code: 'already_exists' }));
    expect(fs.readdirSync(dir)).toEqual(['out']);
    expect(fs.readFileSync(path.join(dir, 'out', 'model.json'), 'utf8')).toBe('the previous export');
  });

  it('deletes the aside when the new export made it in before the kill', () => {
    folderWith('out', 'model.json', 'the new export');
    folderWith(`.out.old-${deadPid}-0a1b2c3d`, 'model.json', 'the replaced export');
    const report = sweepFolderLeftovers(dir);
    expect(report.discarded).toEqual([path.join(dir, `.out.old-${deadPid}-0a1b2c3d`)]);
    expect(fs.readdirSync(dir)).toEqual(['out']);
    expect(fs.readFileSync(path.join(dir, 'out', 'model.json'), 'utf8')).toBe('the new export');
  });

  it('keeps the old folder under an .old aside while --force swaps, and leaves only the new one', () => {
    folderWith('out', 'model.json', 'old');
    const staged = stageFolder(path.join(dir, 'out'), true);
    fs.writeFileSync(path.join(staged.temp, 'model.json'), 'new');
    const renames: [string, string][] = [];
    const rename = fs.renameSync;
    vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      renames.push([String(from), String(to)]);
      rename(from, to);
    });
    expect(commitFolder(staged, true)).toBe(true);
    expect(renames).toEqual([
      [path.join(dir, 'out'), staged.aside],
      [staged.temp, path.join(dir, 'out')],
    ]);
    expect(path.basename(staged.aside)).toMatch(new RegExp(`^\\.out\\.old-${process.pid}-[0-9a-f]{8}$`));
    expect(fs.readdirSync(dir)).toEqual(['out']);
    expect(fs.readFileSync(path.join(dir, 'out', 'model.json'), 'utf8')).toBe('new');
  });
});
