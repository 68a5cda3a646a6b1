/**
 * Entry of the estimator worker (train.estimate): started by the service's Estimator (estimate.ts)
 * through the process launcher, like a trainer, so measuring never blocks the service and a backend
 * that crashes or runs out of memory ends only this process. It takes one request, selects the
 * backend exactly as a run would, times the pieces of an epoch (estimate-measure.ts), answers once
 * and exits.
 */
import { ApiError } from '../contract/contract';
import { selectBackend } from '../backend/select-backend';
import { openDatabase, type Database } from '../project/database';
import { EstimateRequest, type EstimateAnswer } from './estimate-protocol';
import { measureEpochParts } from './estimate-measure';
import { memoryOverride } from './memory';
import { workerChannel } from '../workers/worker-channel';

let db: Database | null = null;
let busy = false;

process.on('SIGINT', () => undefined);
// the service went away: nobody wants the answer
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (err) => void fail(err));
process.on('unhandledRejection', (err) => void fail(err));

workerChannel.onMessage((raw) => {
  const parsed = EstimateRequest.safeParse(raw);
  if (!parsed.success || busy) return;
  busy = true;
  void measure(parsed.data).catch(fail);
});

async function measure(request: EstimateRequest): Promise<void> {
  db = openDatabase(request.project, { create: false });
  const { active } = await selectBackend({ force: request.backend ?? request.config.backend ?? undefined, purpose: 'train' });
  const measurement = await measureEpochParts(request, { db, backend: active, memoryBytes: memoryOverride() });
  await answer({ type: 'measured', backend: { name: active.name, device: active.device, memoryBytes: active.memoryBytes, memorySource: active.memorySource, ...(active.maxBindingBytes ? { maxBindingBytes: active.maxBindingBytes } : {}) }, measurement });
}

async function fail(err: unknown): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  await answer({ type: 'failed', code: err instanceof ApiError ? err.code : 'internal', message: err instanceof ApiError ? message : `measuring failed: ${message}` });
}

async function answer(message: EstimateAnswer): Promise<void> {
  await workerChannel.send(message);
  db?.close();
  process.exit(0);
}
