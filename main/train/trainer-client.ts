/**
 * The service's end of a trainer process (trainer-process.ts): starts it through the service's
 * process launcher (process-launcher.ts: a tsx fork under Node, utilityProcess under Electron), sends it commands,
 * validates what it says (every message is parsed with the contract's schema) and reports how it
 * ended. A crash, an out-of-memory abort or a kill ends only the child; `exited` resolves with the
 * exit code or signal and the last lines the child printed, so the run can be recorded as failed
 * with that reason.
 *
 * The child's stdout and stderr are captured, not inherited: libraries print banners there, and a
 * CLI printing one JSON object must keep stdout clean. EFFITUNE_TRAINER_LOG=1 forwards them to this
 * process's stderr for debugging.
 */
import { EventEmitter } from 'node:events';
import { ApiError, ErrorCode } from '../contract/contract';
import { TrainerMessage, type TrainerCommand, type TrainStarted } from '../contract/calls-train';
import { describeExit, type ProcessExit as TrainerExit } from '../workers/process-exit';
import { launchWorker, workerEnv, type LaunchedWorker } from '../workers/process-launcher';

/** bytes of the child's output kept for the failure reason */
const OUTPUT_TAIL = 8192;


export interface TrainerProcessOptions {
  /** extra environment (tests: EFFITUNE_TRAIN_FAULT, EFFITUNE_TRAIN_MEMORY_BYTES) */
  env?: Record<string, string>;
}

export declare interface TrainerProcess {
  on(event: 'message', listener: (message: TrainerMessage) => void): this;
}

export class TrainerProcess extends EventEmitter {
  private readonly child: LaunchedWorker;
  private output = '';
  /** resolves when the process has exited */
  readonly exited: Promise<TrainerExit>;

  constructor(options: TrainerProcessOptions = {}) {
    super();
    this.child = launchWorker('trainer', { env: workerEnv(options.env) });
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.output = (this.output + text).slice(-OUTPUT_TAIL);
      if (process.env.EFFITUNE_TRAINER_LOG === '1') process.stderr.write(text);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.child.onMessage((raw) => {
      const parsed = TrainerMessage.safeParse(raw);
      if (parsed.success) this.emit('message', parsed.data);
      else this.output = `${this.output}\n[trainer sent a message the contract does not know: ${JSON.stringify(raw).slice(0, 200)}]`.slice(-OUTPUT_TAIL);
    });
    this.exited = new Promise((resolve) => {
      this.child.onExit(({ code, signal }, error) =>
        resolve({ code, signal, output: error ? `${this.output}\ncannot start the trainer process: ${error.message}`.trim() : this.output.trim() }),
      );
    });
  }

  get pid(): number | null {
    return this.child.pid;
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
    this.child.kill(signal);
  }

  private send(command: TrainerCommand): void {
    this.child.send(command);
  }
}
