/**
 * A run left running by a trainer that is gone together with the app that started it reads as
 * failed, resumable from the epoch after its last finished one, with a note saying so; a run whose
 * trainer or app is alive (here, or on another machine with a fresh heartbeat) is never touched; a
 * pid given to another process since does not pass for the trainer; a run without a recorded owner
 * (older projects) and a project opened read-only read as stored.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { claimRun, createRun, getRun, listRuns, recordEpoch, runOwner } from '../../main/project/runs';
import { HEARTBEAT_STALE_MS, startMark } from '../../main/project/run-owner';
import { runNotes } from '../../main/train/run-notes';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
let registry: ProjectRegistry;
let handle: ProjectHandle;
/** two processes that have ended, with the start marks they had */
const ended: { pid: number; start: string | null }[] = [];

/** A process that lives until killed; its pid and start mark are read while it runs. */
async function endedProcess(): Promise<{ pid: number; start: string | null }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  const mark = { pid: child.pid!, start: startMark(child.pid!) };
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return mark;
}

beforeAll(async () => {
  dir = makeTempDir('run-owner');
  registry = new ProjectRegistry(path.join(dir, 'home'));
  const file = path.join(dir, 'p.effitune');
  registry.create(file);
  handle = registry.get(file);
  ended.push(await endedProcess(), await endedProcess());
});

afterAll(() => {
  registry.closeAll();
  removeDir(dir);
});

const newRun = (status: 'running' | 'paused' = 'running') => createRun(handle.db, { config: {}, variant: 'phi=-8', resolution: 32, classes: ['a', 'b'], status }).id;

function setOwner(id: number, owner: { host?: string; trainer: { pid: number; start: string | null }; app: { pid: number; start: string | null } | null; heartbeatAgoMs?: number }): void {
  const heartbeat = new Date(Date.now() - (owner.heartbeatAgoMs ?? 0)).toISOString();
  handle.db
    .prepare('UPDATE runs SET trainer_host = ?, trainer_pid = ?, trainer_start = ?, app_pid = ?, app_start = ?, heartbeat_at = ? WHERE id = ?')
    .run(owner.host ?? os.hostname(), owner.trainer.pid, owner.trainer.start, owner.app?.pid ?? null, owner.app?.start ?? null, heartbeat, id);
}

const EPOCH = { trainLoss: 1, trainAcc: 0.5, valLoss: 1, valAcc: 0.5, imagesPerSecond: 10, seconds: 1, lr: 0.001, batch: 4 };
const self = () => ({ pid: process.pid, start: startMark(process.pid) });

describe('a run whose trainer and app are gone', () => {
  it('reads as failed, resumable from the epoch after its last finished one, with a note', () => {
    const id = newRun();
    recordEpoch(handle.db, id, { epoch: 0, ...EPOCH });
    recordEpoch(handle.db, id, { epoch: 1, ...EPOCH });
    setOwner(id, { trainer: ended[0], app: ended[1] });
    expect(runOwner(handle.db, id)?.gone).toBe(true);
    const listed = listRuns(handle.db).find((r) => r.id === id)!;
    expect(listed).toMatchObject({ status: 'failed', reason: 'the trainer stopped without finishing (killed or crashed); resume to continue from epoch 3', finishedAt: expect.any(String) });
    expect(runNotes(handle.db, id).map((n) => [n.kind, n.message])).toEqual([
      ['warning', expect.stringMatching(new RegExp(`^the trainer stopped without finishing .*epoch 3 \\(it was running; trainer pid ${ended[0].pid}, app pid ${ended[1].pid} on `))],
    ]);
    // read again: closed once, one note
    expect(getRun(handle.db, id).status).toBe('failed');
    expect(runNotes(handle.db, id)).toHaveLength(1);
    expect(listRuns(handle.db, { status: 'running' }).map((r) => r.id)).not.toContain(id);
  });

  it('a paused run without epochs resumes from epoch 1; getRun closes it too', () => {
    const id = newRun('paused');
    setOwner(id, { trainer: ended[0], app: null });
    expect(getRun(handle.db, id)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/resume to continue from epoch 1$/) });
  });
});

describe('a run that is still trained is never touched', () => {
  it('the trainer is alive (this process, as a trainer claims it)', () => {
    const id = newRun();
    claimRun(handle.db, id);
    expect(runOwner(handle.db, id)).toMatchObject({ gone: false, owner: { host: os.hostname(), trainer: { pid: process.pid } } });
    expect(getRun(handle.db, id).status).toBe('running');
  });

  it('the trainer is gone but the app that started it is alive (it records the crash itself, with how the trainer ended)', () => {
    const id = newRun();
    setOwner(id, { trainer: ended[0], app: self(), heartbeatAgoMs: 2 * HEARTBEAT_STALE_MS });
    expect(getRun(handle.db, id).status).toBe('running');
  });

  it('on another machine, while its heartbeat is fresh; gone once it is stale', () => {
    const fresh = newRun();
    setOwner(fresh, { host: 'another-machine', trainer: ended[0], app: ended[1], heartbeatAgoMs: 60_000 });
    expect(getRun(handle.db, fresh).status).toBe('running');
    const stale = newRun();
    setOwner(stale, { host: 'another-machine', trainer: self(), app: self(), heartbeatAgoMs: HEARTBEAT_STALE_MS + 60_000 });
    expect(getRun(handle.db, stale).status).toBe('failed');
  });

  it('without a start mark (another system), a pid that exists and a fresh heartbeat keep it; a pid that is gone does not', () => {
    const alive = newRun();
    setOwner(alive, { trainer: { pid: process.pid, start: null }, app: null, heartbeatAgoMs: 60_000 });
    expect(getRun(handle.db, alive).status).toBe('running');
    const gone = newRun();
    setOwner(gone, { trainer: { pid: ended[0].pid, start: null }, app: null, heartbeatAgoMs: 1000 });
    expect(getRun(handle.db, gone).status).toBe('failed');
  });

  it('a project opened read-only reads as stored', () => {
    const id = newRun();
    setOwner(id, { trainer: ended[0], app: ended[1] });
    const readOnly = new BetterSqlite3(handle.path, { readonly: true, fileMustExist: true });
    try {
      expect(getRun(readOnly, id).status).toBe('running');
      expect(listRuns(readOnly).find((r) => r.id === id)?.status).toBe('running');
    } finally {
      readOnly.close();
    }
    expect(getRun(handle.db, id).status).toBe('failed');
  });

  it('a run from before owners were recorded reads as stored', () => {
    const id = newRun();
    expect(runOwner(handle.db, id)).toBeNull();
    expect(getRun(handle.db, id).status).toBe('running');
  });
});

describe.runIf(process.platform === 'linux')('pid reuse (Linux start times)', () => {
  it('a live process with the recorded pid but another start time is not the trainer', () => {
    const mine = startMark(process.pid)!;
    expect(mine).toMatch(/^[0-9a-f-]+\/pid:\[\d+\]\/\d+$/);
    const id = newRun();
    // this process has the pid now, but started at another time than the recorded trainer
    const other = mine.replace(/\/(\d+)$/, (_, ticks: string) => `/${Number(ticks) + 1}`);
    setOwner(id, { trainer: { pid: process.pid, start: other }, app: null, heartbeatAgoMs: 0 });
    expect(getRun(handle.db, id).status).toBe('failed');
  });

});
