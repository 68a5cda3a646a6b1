/**
 * Entry of the predictor process: the service's predictions (evaluation, assist, "try an image")
 * run here, so a large model computing on a CPU backend never holds the service's event loop, and
 * a backend that crashes or runs out of memory ends only this process. It serves one job at a time
 * (the client queues them), keeps the last model loaded, and exits when the service goes away.
 */
import { ApiError } from '../contract/contract';
import { workerChannel } from '../workers/worker-channel';
import { LocalPredictor } from './predictor';
import { PredictorRequest, type PredictorMessage } from './predictor-protocol';
import { pathBytesFromMessage } from '../dataset/file-name-bytes';

const predictor = new LocalPredictor();
// a session holds native memory: release it before the process goes
process.on('exit', () => predictor.close());
let queue: Promise<void> = Promise.resolve();

process.on('SIGINT', () => undefined);
process.on('disconnect', () => process.exit(0));

workerChannel.onMessage((raw) => {
  const parsed = PredictorRequest.safeParse(raw);
  if (!parsed.success) return;
  const request = parsed.data;
  queue = queue.then(() => serve(request).catch((err) => fail(request.job, err)));
});

async function serve(request: PredictorRequest): Promise<void> {
  if (request.type === 'release') return predictor.release(request.dir);
  const job = { model: request.model, backend: request.backend, provider: request.provider };
  if (request.type === 'pixels') {
    const probs = await predictor.predictPixels(job, Float32Array.from(request.pixels));
    return send({ type: 'pixelsDone', job: request.job, probs: Array.from(probs) });
  }
  // a batch's results are sent with the progress after it, so the client stores them before it reports
  let results: { id: number; probs: number[] }[] = [];
  const images = request.images.map(({ pathBytes, ...image }) => ({ ...image, pathBytes: pathBytesFromMessage(pathBytes) }));
  const { skipped, backend } = await predictor.predictFiles(job, images, {
    onBatch: (batch) => results.push(...batch.map((r) => ({ id: r.id, probs: Array.from(r.probs) }))),
    onProgress: (done, total) => {
      void send({ type: 'batch', job: request.job, results, done, total });
      results = [];
    },
  });
  await send({ type: 'filesDone', job: request.job, skipped, backend });
}

function fail(job: number, err: unknown): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  return send({ type: 'failed', job, code: err instanceof ApiError ? err.code : 'internal', message: err instanceof ApiError ? message : `predicting failed: ${message}` });
}

function send(message: PredictorMessage): Promise<void> {
  return workerChannel.send(message);
}
