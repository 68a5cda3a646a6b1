/**
 * The real `effitune` CLI (node bin/effitune.mjs) as the soak runs it: each command in its own process
 * group, so one signal reaches the CLI and every process it forks (the trainer, import workers) at
 * the same instant — the way a crash, an OOM kill or a pulled plug would, with no chance to clean up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const cliBin = path.join(repoRoot, 'bin', 'effitune.mjs');
const killAtModule = pathToFileURL(path.join(import.meta.dirname, 'kill-at.mjs')).href;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface CliProcess {
  child: ChildProcess;
  /** settles when the process group leader has exited */
  done: Promise<CliResult>;
  /** true until the leader has exited */
  alive(): boolean;
}

/**
 * A moment to die at, read by kill-at.mjs: the `nth` (default 1st) call of `fs[call]` with a
 * string argument (or argument `arg`) that matches `pattern` (a RegExp source).
 */
export interface KillPoint {
  call: 'renameSync' | 'rmSync' | 'writeFileSync' | 'copyFileSync' | 'mkdirSync';
  pattern: string;
  /** only this argument (0-based) is matched; default any string argument */
  arg?: number;
  nth?: number;
}

/**
 * `killAt`: the command kills itself with SIGKILL the moment it makes that file-system call (see
 * kill-at.mjs), for the steps too short for a kill from outside to land in.
 */
export function startCli(args: string[], env: { cwd: string; home: string }, killAt?: KillPoint): CliProcess {
  const started = performance.now();
  const preload = killAt ? ['--import', killAtModule] : [];
  const child = spawn(process.execPath, [...preload, cliBin, ...args], {
    cwd: env.cwd,
    env: { ...process.env, EFFITUNE_HOME: env.home, ...(killAt ? { EFFITUNE_SOAK_KILL_AT: JSON.stringify(killAt) } : {}) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => (exited = true));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
  return { child, done, alive: () => !exited };
}

/** Run a command to its end; throws with its output when it exits non-zero. */
export async function runCli(args: string[], env: { cwd: string; home: string }): Promise<{ json: any; seconds: number }> {
  const result = await startCli(args, env).done;
  if (result.code !== 0) throw new Error(`effitune ${args.join(' ')} exited ${result.code ?? result.signal}:\n${result.stderr.slice(-2000)}${result.stdout.slice(-1000)}`);
  let json: any = null;
  try {
    json = args.includes('--json') ? JSON.parse(result.stdout.trim()) : null;
  } catch {
    throw new Error(`effitune ${args.join(' ')}: stdout is not one JSON object: ${result.stdout.slice(0, 500)}`);
  }
  return { json, seconds: result.seconds };
}

export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // the whole group is gone already
  }
}

/**
 * Kill -9 a running command after `delayMs`. Just before the kill the group is frozen (SIGSTOP) and
 * `atKill` runs: what it reads from disk is then exactly what the processes had committed when they
 * died, so "committed before the kill, missing after" can be counted without a race.
 * `killed: false` when the command ended on its own before the delay was up (no kill happened).
 */
export type KillResult<T> = { killed: true; snapshot: T; result: CliResult } | { killed: false; result: CliResult };

export async function killAfter<T>(proc: CliProcess, delayMs: number, atKill: () => T): Promise<KillResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([proc.done.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), delayMs)))]);
  clearTimeout(timer);
  const pid = proc.child.pid!;
  if (ended || !proc.alive() || !signalGroup(pid, 'SIGSTOP')) return { killed: false, result: await proc.done };
  let snapshot: T;
  try {
    snapshot = atKill();
  } finally {
    signalGroup(pid, 'SIGKILL');
  }
  const result = await proc.done;
  // a forked child can outlive the leader for a moment; make sure nothing of the group is left
  signalGroup(pid, 'SIGKILL');
  return { killed: true, snapshot, result };
}

/**
 * Kill -9 `extraMs` after `started()` first turns true (polled every `pollMs`), so the kill lands
 * inside the work rather than in the seconds of process start-up; as killAfter otherwise.
 */
export async function killOnceStarted<T>(proc: CliProcess, started: () => boolean, pollMs: number, extraMs: number, atKill: () => T): Promise<KillResult<T>> {
  while (proc.alive() && !started()) await new Promise((resolve) => setTimeout(resolve, pollMs));
  return killAfter(proc, extraMs, atKill);
}
