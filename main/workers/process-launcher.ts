/**
 * How the engine starts its worker processes (the trainer of a run, the estimator of train.estimate,
 * the backend probe, the evaluation's predictor), kept behind one small interface so main/ never imports electron:
 *   - under plain Node (tests, CLI, browser mode) the default: child_process.fork of the TypeScript
 *     entry through tsx (`node --import tsx main/train/trainer-process.ts`);
 *   - under Electron the desktop shell installs its own launcher at startup (electron/worker-launcher.ts:
 *     Electron's utilityProcess.fork of the entries built into out/electron/), because inside a
 *     packaged app there is neither tsx nor the .ts sources, and process.execPath is the app itself.
 *     It also sets EFFITUNE_WORKER_DIR to that folder, which every worker inherits: a worker that
 *     starts workers of its own (the trainer probing backends) cannot use utilityProcess (main
 *     process only), so there the default forks the built entries with the Electron binary run as
 *     Node (ELECTRON_RUN_AS_NODE).
 * `forkLauncher` also runs built entries with plain Node, which is how the build is tested without
 * the Electron binary.
 *
 * The trainer, the estimator and the predictor speak over one channel: process.send under child_process.fork, and
 * process.parentPort under utilityProcess (see worker-channel.ts). The messages are the same. The
 * probe only prints its result on stdout.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** The worker entries: each is one file the launcher starts (and one input of the Electron build). */
export type WorkerEntry = 'trainer' | 'estimator' | 'probe' | 'provider-probe' | 'predictor';

/** The TypeScript sources of the entries (the plain-Node default runs these through tsx). */
export const WORKER_SOURCES: Record<WorkerEntry, string> = {
  trainer: fileURLToPath(new URL('../train/trainer-process.ts', import.meta.url)),
  estimator: fileURLToPath(new URL('../train/estimate-process.ts', import.meta.url)),
  probe: fileURLToPath(new URL('../backend/probe-child.ts', import.meta.url)),
  'provider-probe': fileURLToPath(new URL('../inference/provider-probe-child.ts', import.meta.url)),
  predictor: fileURLToPath(new URL('../eval/predictor-process.ts', import.meta.url)),
};

/** Set by the Electron shell: the folder of the built worker entries (<entry>.js). */
export const WORKER_DIR_ENV = 'EFFITUNE_WORKER_DIR';
const REPO_ROOT = path.resolve(path.dirname(WORKER_SOURCES.trainer), '../..');

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A started worker, whatever started it. */
export interface LaunchedWorker {
  readonly pid: number | null;
  /** the worker's output (captured, never inherited: a CLI printing JSON keeps stdout clean) */
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  send(message: unknown): void;
  kill(signal?: NodeJS.Signals): void;
  onMessage(listener: (message: unknown) => void): void;
  /** once, when the worker has ended and its output is read (or it could not be started: code and signal null, `error` set) */
  onExit(listener: (exit: WorkerExit, error?: Error) => void): void;
}

export interface LaunchOptions {
  /** the full environment of the worker */
  env: Record<string, string | undefined>;
}

export type ProcessLauncher = (entry: WorkerEntry, options: LaunchOptions) => LaunchedWorker;

/** The environment every worker gets: this process's, the caller's extras, and a larger decode pool. */
export function workerEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  // UV_THREADPOOL_SIZE: sharp decodes the training images on libuv's pool (default 4 threads).
  // ELECTRON_RUN_AS_NODE: a fork of process.execPath inside Electron starts the app otherwise.
  return { UV_THREADPOOL_SIZE: String(Math.max(4, Math.min(16, os.availableParallelism()))), ...process.env, ...extra, ELECTRON_RUN_AS_NODE: '1' };
}

/** child_process.fork of `scripts[entry]` with these Node options, in `cwd` (default: the repository, where tsx finds tsconfig.json). */
export function forkLauncher(scripts: Record<WorkerEntry, string>, execArgv: string[] = [], cwd = REPO_ROOT): ProcessLauncher {
  return (entry, options) => {
    const child = fork(scripts[entry], [], { cwd, execArgv, env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
    let ended = false;
    return {
      get pid() {
        return child.pid ?? null;
      },
      stdout: child.stdout,
      stderr: child.stderr,
      send(message) {
        if (child.connected) child.send(message as never);
      },
      kill(signal = 'SIGKILL') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
      onMessage(listener) {
        child.on('message', listener);
      },
      onExit(listener) {
        const once = (exit: WorkerExit, error?: Error) => {
          if (ended) return;
          ended = true;
          listener(exit, error);
        };
        // 'close', not 'exit': by then everything the worker printed has been read
        child.on('close', (code, signal) => once({ code, signal }));
        // a process that could not be spawned at all never exits
        child.on('error', (err) => once({ code: null, signal: null }, err));
      },
    };
  };
}

/** The plain-Node default: the TypeScript entries through tsx. */
export function tsxLauncher(): ProcessLauncher {
  return forkLauncher(WORKER_SOURCES, ['--import', pathToFileURL(require.resolve('tsx')).href]);
}

/** The built entries of `dir` (<entry>.js), forked as they are (in this process's folder: a packaged app's own is inside its asar archive). */
export function builtLauncher(dir: string): ProcessLauncher {
  const scripts = Object.fromEntries((Object.keys(WORKER_SOURCES) as WorkerEntry[]).map((entry) => [entry, path.join(dir, `${entry}.js`)]));
  return forkLauncher(scripts as Record<WorkerEntry, string>, [], process.cwd());
}

let current: ProcessLauncher | null = null;

/** Replace how workers start (the Electron shell does this once at startup); null restores the default. */
export function setProcessLauncher(launcher: ProcessLauncher | null): void {
  current = launcher;
}

export function launchWorker(entry: WorkerEntry, options: LaunchOptions): LaunchedWorker {
  if (!current) {
    const builtDir = process.env[WORKER_DIR_ENV];
    current = builtDir ? builtLauncher(builtDir) : tsxLauncher();
  }
  return current(entry, options);
}
