/**
 * How the engine starts its worker processes (the trainer of a run, the estimator of train.estimate,
 * the backend probe, the evaluation's predictor), kept behind one small interface so main/ never imports electron:
 *   - under plain Node (tests, CLI, browser mode) the default: child_process.fork of the entry's
 *     bundle (scripts/entry-bundles.cjs) when it is fresh, else of the TypeScript entry through tsx
 *     (`node --import tsx main/train/trainer-process.ts`);
 *   - under Electron the desktop shell installs its own launcher at startup (electron/worker-launcher.ts:
 *     Electron's utilityProcess.fork of the entries built into out/electron/), because inside a
 *     packaged app there is neither tsx nor the .ts sources, and process.execPath is the app itself.
 *     It is wrapped in the relay host (relay-host.ts), which tells every worker so (RELAY_ENV): a
 *     worker that starts workers of its own (the trainer and the estimator probing backends, the
 *     predictor and the trainer's frozen trunk probing inference providers) cannot use utilityProcess
 *     (main process only) and must not fork the app binary as Node (the RunAsNode fuse is off), so
 *     there the default is the relay launcher (relay-launcher.ts): the main process starts the child.
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
import { failedWorker, relayLauncher } from './relay-launcher';
import { RELAY_ENV } from './relay-protocol';
import { workerChannel } from './worker-channel';

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

export const WORKER_ENTRIES = Object.keys(WORKER_SOURCES) as WorkerEntry[];

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
  return { UV_THREADPOOL_SIZE: String(Math.max(4, Math.min(16, os.availableParallelism()))), ...process.env, ...extra };
}

/** child_process.fork of `scripts[entry]` with these Node options, in `cwd` (default: the repository, where tsx finds tsconfig.json). */
export function forkLauncher(scripts: Record<WorkerEntry, string>, execArgv: string[] = [], cwd = REPO_ROOT): ProcessLauncher {
  return (entry, options) => {
    const child = fork(scripts[entry], [], { cwd, execArgv, env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
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
        // once per listener: 'error' and then 'close' may both come for a process that did not start
        let ended = false;
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

/** The TypeScript entries through tsx (the plain-Node default where no fresh bundle is built). */
export function tsxLauncher(): ProcessLauncher {
  return forkLauncher(WORKER_SOURCES, ['--import', pathToFileURL(require.resolve('tsx')).href]);
}

interface EntryBundles {
  freshEntries(): string | null;
  entryFile(dir: string, entry: string): string;
}

/** scripts/entry-bundles.cjs, looked up at run time (it is not part of a packaged app), or null */
function entryBundles(): EntryBundles | null {
  try {
    return require(path.join(REPO_ROOT, 'scripts', 'entry-bundles.cjs')) as EntryBundles;
  } catch {
    return null;
  }
}

/**
 * The plain-Node default: each worker from the bundled entries when they are fresh (built from the
 * sources as they are now: scripts/entry-bundles.cjs; the CLI, `npm start` and `npm test` build
 * them), which starts ~2 s sooner than tsx; otherwise the TypeScript entries through tsx. Asked at
 * every launch, so a source edited while the app runs is never run from an old bundle.
 */
export function nodeLauncher(): ProcessLauncher {
  const tsx = tsxLauncher();
  const bundles = entryBundles();
  return (entry, options) => {
    const dir = bundles?.freshEntries() ?? null;
    if (!dir) return tsx(entry, options);
    const scripts = Object.fromEntries(WORKER_ENTRIES.map((e) => [e, bundles!.entryFile(dir, e)])) as Record<WorkerEntry, string>;
    return forkLauncher(scripts, ['--enable-source-maps'])(entry, options);
  };
}

let current: ProcessLauncher | null = null;

/** Replace how workers start (the Electron shell does this once at startup); null restores the default. */
export function setProcessLauncher(launcher: ProcessLauncher | null): void {
  current = launcher;
}

export type DefaultLauncher = 'relay' | 'tsx' | 'refuse';

/**
 * Which launcher a process gets when none was installed: the relay when the process that started
 * it serves one (and the channel to it is open); plain Node (nodeLauncher: bundles, or tsx); and inside Electron without
 * a relay, none: forking process.execPath there would start a second copy of the app, not a worker.
 */
export function defaultLauncherKind(here: { relayOffered: boolean; channelOpen: boolean; electron: boolean }): DefaultLauncher {
  if (here.relayOffered && here.channelOpen) return 'relay';
  return here.electron ? 'refuse' : 'tsx';
}

function defaultLauncher(): ProcessLauncher {
  const kind = defaultLauncherKind({ relayOffered: process.env[RELAY_ENV] === '1', channelOpen: workerChannel.connected(), electron: process.versions.electron !== undefined });
  if (kind === 'relay') return relayLauncher();
  if (kind === 'tsx') return nodeLauncher();
  return (entry) =>
    failedWorker(new Error(`cannot start the ${entry} worker: inside Electron workers are started by the main process, and this process has no relay to it (${RELAY_ENV} is not set)`));
}

export function launchWorker(entry: WorkerEntry, options: LaunchOptions): LaunchedWorker {
  current ??= defaultLauncher();
  return current(entry, options);
}
