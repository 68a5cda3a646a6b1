/**
 * How the desktop app starts the engine's worker processes (a run's trainer, train.estimate's
 * estimator, the predictor, the probes): Electron's utilityProcess, so the window never blocks and a crash or out-of-memory ends only the worker. The engine (main/) never imports
 * electron; electron/main.ts installs this launcher with setProcessLauncher at startup.
 *
 * The workers are the entries electron-vite builds next to main.js (electron.vite.config.ts: one
 * input per WorkerEntry, named after it), so the packaged app needs neither tsx nor the .ts sources.
 * The trainer's and estimator's channel is process.parentPort (main/workers/worker-channel.ts); the
 * messages are the same as under child_process.fork. The probe prints its result on stdout.
 *
 * Workers that start workers of their own (the trainer probing its backend) ask this process to,
 * over that channel (main/workers/relay-host.ts): only the main process can call utilityProcess.fork,
 * and the app binary cannot be run as Node (the RunAsNode fuse is off; electron-builder.yml).
 */
import { utilityProcess } from 'electron';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { LaunchedWorker, ProcessLauncher, WorkerEntry, WorkerExit } from '../main/workers/process-launcher';
import { relayHostLauncher } from '../main/workers/relay-host';

/** How long an exited worker's output may take to arrive. */
const DRAIN_MS = 2000;

/** The built file of a worker entry, in the folder of the built main.js. */
export function workerBundle(dir: string, entry: WorkerEntry): string {
  return path.join(dir, `${entry}.js`);
}

/** What electron/main.ts installs: utility processes of the built entries, which may ask for workers of their own. */
export function electronWorkerLauncher(dir: string): ProcessLauncher {
  return relayHostLauncher(utilityProcessLauncher(dir));
}

export function utilityProcessLauncher(dir: string): ProcessLauncher {
  return (entry, options) => {
    // An ELECTRON_RUN_AS_NODE inherited from the user's shell would turn the (unfused, development)
    // Electron binary behind the utility process into plain Node before it could become one.
    const env = Object.fromEntries(Object.entries(options.env).filter(([key, value]) => key !== 'ELECTRON_RUN_AS_NODE' && value !== undefined)) as Record<string, string>;
    const child = utilityProcess.fork(workerBundle(dir, entry), [], { env, stdio: 'pipe', serviceName: `Effitune ${entry}` });
    // Electron types them as NodeJS.ReadableStream; they are stream.Readable objects (what the engine reads)
    const stdout = child.stdout as Readable | null;
    const stderr = child.stderr as Readable | null;
    let ended = false;
    const worker: LaunchedWorker = {
      get pid() {
        return child.pid ?? null;
      },
      stdout,
      stderr,
      send(message) {
        if (!ended) child.postMessage(message);
      },
      // utilityProcess.kill() ends the process (SIGTERM on POSIX); it takes no signal
      kill() {
        if (!ended) child.kill();
      },
      onMessage(listener) {
        child.on('message', listener);
      },
      onExit(listener) {
        // utilityProcess reports an exit code only; a crash (a fatal error, an out-of-memory abort) is a non-zero code
        child.once('exit', (code: number) => {
          ended = true;
          // what the worker printed last (the probe's result, a crash's message) may still be in the pipes
          void Promise.all([drained(stdout), drained(stderr)]).then(() => listener({ code, signal: null } satisfies WorkerExit));
        });
      },
    };
    return worker;
  };
}

/** Resolves when a worker's output stream has ended (or after DRAIN_MS). */
function drained(stream: Readable | null): Promise<void> {
  if (!stream || stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, DRAIN_MS);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
