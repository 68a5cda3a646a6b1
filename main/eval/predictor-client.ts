/**
 * The service's predictor process (predictor-process.ts): started on the first prediction, fed one
 * job at a time, kept while it is used (the loaded model and the started backend make the next job
 * fast) and ended after IDLE_MS without work or when the service closes. A crash fails the jobs in
 * flight with the process's last words; the next job starts a fresh process.
 */
import { ApiError } from '../contract/contract';
import { describeExit } from '../workers/process-exit';
import { launchWorker, workerEnv, type LaunchedWorker } from '../workers/process-launcher';
import type { FileCallbacks, FilesPredicted, PredictJob, Predictor } from './predictor';
import { PredictorMessage, type PredictorRequest } from './predictor-protocol';
import type { ImageFile } from './predict-images';
import { pathBytesForMessage } from '../dataset/file-name-bytes';

/** A predictor process with nothing to do for this long is ended (it holds a model and a backend). */
export const IDLE_MS = 60_000;
const OUTPUT_TAIL = 8192;

interface PendingJob {
  onMessage(message: PredictorMessage): void;
  fail(error: ApiError): void;
}

export class ProcessPredictor implements Predictor {
  private worker: LaunchedWorker | null = null;
  private output = '';
  private nextJob = 1;
  private readonly jobs = new Map<number, PendingJob>();
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;

  /** the process id while a predictor process runs */
  get pid(): number | null {
    return this.worker?.pid ?? null;
  }

  predictFiles(job: PredictJob, images: readonly ImageFile[], callbacks: FileCallbacks): Promise<FilesPredicted> {
    return new Promise((resolve, reject) => {
      this.submit({ type: 'files', job: 0, model: job.model, backend: job.backend, provider: job.provider, images: images.map(({ id, path, format, pathBytes }) => ({ id, path, ...(format === undefined ? {} : { format }), ...(pathBytes ? { pathBytes: pathBytesForMessage(pathBytes) } : {}) })) }, {
        onMessage: (message) => {
          if (message.type === 'batch') {
            callbacks.onBatch(message.results.map((r) => ({ id: r.id, probs: Float32Array.from(r.probs) })));
            callbacks.onProgress(message.done, message.total);
          } else if (message.type === 'filesDone') resolve({ skipped: message.skipped, backend: message.backend });
        },
        fail: reject,
      });
    });
  }

  predictPixels(job: PredictJob, pixels: Float32Array): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.submit({ type: 'pixels', job: 0, model: job.model, backend: job.backend, provider: job.provider, pixels: Array.from(pixels) }, {
        onMessage: (message) => {
          if (message.type === 'pixelsDone') resolve(Float32Array.from(message.probs));
        },
        fail: reject,
      });
    });
  }

  close(): void {
    this.closed = true;
    this.stop();
  }

  /** A project closed: a running predictor process releases the sessions and models under its folder. */
  releaseUnder(dir: string): void {
    this.worker?.send({ type: 'release', job: -1, dir } satisfies PredictorRequest);
  }

  private submit(request: PredictorRequest, pending: PendingJob): void {
    if (this.closed) return pending.fail(new ApiError('cancelled', 'the service is closing: nothing more is predicted'));
    const job = this.nextJob++;
    const done = (settle: () => void) => {
      this.jobs.delete(job);
      if (this.jobs.size === 0) this.armIdleTimer();
      settle();
    };
    this.jobs.set(job, {
      onMessage: (message) => {
        if (message.type === 'failed') done(() => pending.fail(new ApiError(message.code, message.message)));
        else if (message.type === 'filesDone' || message.type === 'pixelsDone') done(() => pending.onMessage(message));
        else pending.onMessage(message);
      },
      fail: (error) => done(() => pending.fail(error)),
    });
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.start().send({ ...request, job });
  }

  private start(): LaunchedWorker {
    if (this.worker) return this.worker;
    const worker = launchWorker('predictor', { env: workerEnv() });
    this.worker = worker;
    this.output = '';
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
      if (process.env.EFFITUNE_TRAINER_LOG === '1') process.stderr.write(chunk);
    };
    worker.stdout?.on('data', keep);
    worker.stderr?.on('data', keep);
    worker.onMessage((raw) => {
      const parsed = PredictorMessage.safeParse(raw);
      if (parsed.success) this.jobs.get(parsed.data.job)?.onMessage(parsed.data);
    });
    worker.onExit((exit, error) => {
      if (this.worker === worker) this.worker = null;
      const why = error ? `it could not be started: ${error.message}` : describeExit({ ...exit, output: this.output });
      const failure = new ApiError('internal', `the predictor process ended (${why})`);
      for (const pending of [...this.jobs.values()]) pending.fail(failure);
    });
    return worker;
  }

  private armIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), IDLE_MS);
    // an idle predictor must not keep a finished CLI command alive
    this.idleTimer.unref();
  }

  private stop(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker;
    this.worker = null;
    worker?.kill('SIGKILL');
  }
}
