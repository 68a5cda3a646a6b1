/**
 * `effitune train` and its trainer process killed together (SIGKILL to the process group, so
 * neither can record anything): the run does not stay "running" — the next `effitune runs` shows it
 * failed, with the epoch a resume continues from — while a run whose processes are alive (here
 * stopped, not killed) is left running; `effitune train --resume` then continues and completes it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { Service } from '../../main/service/service';
import { effitune, onlyJson } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject } from '../fixtures/train-project';

const cliBin = path.resolve(import.meta.dirname, '../../bin/effitune.mjs');
const TRAIN_FLAGS = ['--model', 'custom', '--phi', '-8', '--resolution', '32', '--mode', 'full', '--epochs', '4', '--batch', '4', '--patience', '0', '--backend', 'cpu', '--no-augment', '--json'];

let dir: string;
let file: string;
let home: string;

beforeAll(async () => {
  dir = makeTempDir('train-killed');
  home = path.join(dir, 'home');
  const project = await createTrainProject(dir, 8);
  project.registry.closeAll();
  file = project.file;
}, 60_000);

afterAll(() => removeDir(dir));

interface RunRow {
  id: number;
  status: string;
  trainer_pid: number | null;
  app_pid: number | null;
  epochs: number;
}

/** The newest run as stored, read without any of the app's logic. */
function storedRun(): RunRow | undefined {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, status, trainer_pid, app_pid, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id) AS epochs FROM runs r ORDER BY id DESC LIMIT 1').get() as RunRow | undefined;
  } finally {
    db.close();
  }
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the CLI and its trainer killed together', () => {
  it('leave a run that reads as failed and resumable, not running; --resume completes it', { timeout: 300_000 }, async () => {
    // its own process group, so one kill reaches the CLI and the trainer it forks at the same instant
    const cli = spawn(process.execPath, [cliBin, 'train', file, ...TRAIN_FLAGS], { cwd: dir, env: { ...process.env, EFFITUNE_HOME: home }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    cli.stdout.setEncoding('utf8').on('data', (t: string) => (output += t));
    cli.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
    const closed = new Promise<void>((resolve) => cli.on('close', () => resolve()));
    let killed = false;
    try {
      const trained = await until('the trainer finishes its first epoch', () => {
        const run = storedRun();
        return run && run.status === 'running' && run.epochs >= 1 && run.trainer_pid !== null ? run : undefined;
      }, 180_000);
      process.kill(-cli.pid!, 'SIGSTOP');
      const stopped = storedRun()!;
      expect(stopped.status, `the run ended before it could be stopped: ${output}`).toBe('running');
      expect(stopped.app_pid).toBe(cli.pid);

      // stopped processes are alive: another app reading the project leaves the run alone
      const service = new Service({ mode: 'cli', dataDir: path.join(dir, 'other-home') });
      try {
        expect((await service.call('runs.get', { project: file, id: trained.id })).run.status).toBe('running');
        await expect(service.call('train.resume', { project: file, runId: trained.id })).rejects.toMatchObject({ code: 'busy', message: expect.stringContaining(`trainer pid ${trained.trainer_pid}`) });
      } finally {
        service.close();
      }

      process.kill(-cli.pid!, 'SIGKILL');
      killed = true;
      await closed;
      const left = storedRun()!;
      // nothing recorded the end: this is the state the finding left behind
      expect(left.status).toBe('running');

      const listed = await effitune(['runs', file, '--json'], { cwd: dir, home });
      expect(listed.code, listed.stderr).toBe(0);
      const run = (onlyJson(listed) as { runs: { id: number; status: string; reason: string; epochCount: number }[] }).runs.find((r) => r.id === trained.id)!;
      expect(run).toMatchObject({ status: 'failed', reason: `the trainer stopped without finishing (killed or crashed); resume to continue from epoch ${left.epochs + 1}` });
      expect(run.epochCount).toBe(left.epochs);

      const resumed = await effitune(['train', file, '--resume', String(trained.id), '--json'], { cwd: dir, home });
      expect(resumed.code, resumed.stderr).toBe(0);
      const result = onlyJson(resumed) as { status: string; resumedFromEpoch: number; epochs: { epoch: number }[]; notes: { message: string }[] };
      expect(result).toMatchObject({ status: 'completed', resumedFromEpoch: left.epochs - 1 });
      expect(result.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3]);
      expect(result.notes.map((n) => n.message)).toContainEqual(expect.stringMatching(/^the trainer stopped without finishing .*\(it was running; trainer pid \d+, app pid \d+ on /));
    } finally {
      if (!killed) {
        try {
          process.kill(-cli.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
        await closed;
      }
    }
  });
});
