/**
 * The service's end of a trainer process (trainer-process.ts): starts it, sends it commands,
 * validates what it says (every message is parsed with the contract's schema) and reports how it
 * ended. A crash, an out-of-memory abort or a kill ends only the child; `exited` resolves with the
 * exit code or signal and the last lines the child printed, so the run can be recorded as failed
 * with that reason.
 *
 * The child's stdout and stderr are captured, not inherited: libraries print banners there, and a
 * CLI printing one JSON object must keep stdout clean. EFFITUNE_TRAINER_LOG=1 forwards them to this
 * process's stderr for debugging.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApiError, ErrorCode } from '../api/contract';
import { TrainerMessage, type TrainerCommand, type TrainStarted } from '../api/calls-train';

const require = createRequire(import.meta.url);
const TRAINER_SCRIPT = fileURLToPath(new URL('./trainer-process.ts', import.meta.url));
const REPO_ROOT = path.resolve(path.dirname(TRAINER_SCRIPT), '../..');
/** bytes of the child's output kept for the failure reason */
const OUTPUT_TAIL = 8192;

export interface TrainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the last lines the process printed (stderr and stdout) */
  output: string;
}

export interface TrainerProcessOptions {
  /** extra environment (tests: EFFITUNE_TRAIN_FAULT, EFFITUNE_TRAIN_MEMORY_BYTES) */
  env?: Record<string, string>;
}

export declare interface TrainerProcess {
  on(event: 'message', listener: (message: TrainerMessage) => void): this;
}

export class TrainerProcess extends EventEmitter {
  private readonly child: ChildProcess;
  private output = '';
  /** resolves when the process has exited */
  readonly exited: Promise<TrainerExit>;

  constructor(options: TrainerProcessOptions = {}) {
    super();
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    this.child = fork(TRAINER_SCRIPT, [], {
      cwd: REPO_ROOT,
      execArgv: ['--import', tsx],
      // ELECTRON_RUN_AS_NODE: inside Electron, process.execPath is the app; this makes it Node.
      // UV_THREADPOOL_SIZE: sharp decodes the training images on libuv's pool (default 4 threads).
      env: { UV_THREADPOOL_SIZE: String(Math.max(4, Math.min(16, os.availableParallelism()))), ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.output = (this.output + text).slice(-OUTPUT_TAIL);
      if (process.env.EFFITUNE_TRAINER_LOG === '1') process.stderr.write(text);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.child.on('message', (raw) => {
      const parsed = TrainerMessage.safeParse(raw);
      if (parsed.success) this.emit('message', parsed.data);
      else this.output = `${this.output}\n[trainer sent a message the contract does not know: ${JSON.stringify(raw).slice(0, 200)}]`.slice(-OUTPUT_TAIL);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal, output: this.output.trim() }));
      // a process that could not be spawned at all never exits
      this.child.on('error', (err) => resolve({ code: null, signal: null, output: `${this.output}\ncannot start the trainer process: ${err.message}`.trim() }));
    });
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  /** Start the run; resolves once the trainer says it trains, rejects with the reason it could not. */
  start(command: Omit<Extract<TrainerCommand, { type: 'start' }>, 'type'>): Promise<Omit<TrainStarted, 'run'>> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: TrainerMessage) => {
        if (message.type === 'started') {
          this.off('message', onMessage);
          resolve(message.info);
        } else if (message.type === 'failed' || message.type === 'done') {
          this.off('message', onMessage);
          const code = message.type === 'failed' ? ErrorCode.safeParse(message.code) : null;
          const text = message.type === 'failed' ? message.message : `the run ended before it started: ${message.reason ?? message.status}`;
          reject(new ApiError(code?.success ? code.data : 'internal', text));
        }
      };
      this.on('message', onMessage);
      void this.exited.then((exit) => {
        this.off('message', onMessage);
        reject(new ApiError('internal', `the trainer process ended before training started (${describeExit(exit)})`));
      });
      this.send({ type: 'start', ...command });
    });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  cancel(reason: string): void {
    this.send({ type: 'cancel', reason });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  private send(command: TrainerCommand): void {
    if (this.child.connected) this.child.send(command);
  }
}

/** How a trainer process ended, in words: "killed by SIGKILL", "exit code 134: JavaScript heap out of memory". */
export function describeExit(exit: TrainerExit): string {
  const last = lastMeaningfulLine(exit.output);
  if (exit.signal) return `killed by ${exit.signal}${exit.signal === 'SIGKILL' ? ' (out of memory, or killed by hand)' : ''}${last ? `; it last printed: ${last}` : ''}`;
  if (exit.code === null) return last || 'it could not be started';
  return `exit code ${exit.code}${last ? `: ${last}` : ''}`;
}

function lastMeaningfulLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  // V8's fatal out-of-memory message is the most useful line when it is there
  const oom = lines.find((l) => /heap out of memory|out of memory/i.test(l));
  return (oom ?? lines.at(-1) ?? '').slice(0, 300);
}
