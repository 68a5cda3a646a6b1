/**
 * Probing one backend inside the current process: start it, then check that it computes a small
 * convolution (inference) and its gradients (training) like the stock CPU backend does. The
 * probe leaves the process changed (backends started), so it runs in a child (probe-child.ts).
 * The backend is started first so that a backend that does not start costs almost nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../contract/calls-backend';
import { convolutionSample, largestRelativeDifference, missingTrainingKernels, RELATIVE_TOLERANCE } from './capabilities';
import { startBackend, TFJS_BACKEND_NAME, type ActiveBackend } from './start-backend';

export interface LocalProbe {
  loads: boolean;
  canInfer: boolean;
  canTrain: boolean;
  softwareGpu: boolean;
  reason: string | null;
  device: string | null;
  memoryBytes: number | null;
  memorySource: string | null;
  /** webgpu: the adapter's optional features the engine can use */
  features?: string[];
}

function wordsOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** Run the sample on the backend; an exception becomes its words. */
async function sampleOrError(gradients: boolean): Promise<Float32Array[] | string> {
  try {
    return await convolutionSample(gradients);
  } catch (err) {
    return wordsOf(err);
  }
}

/** The same sample on the stock JS CPU backend (no fast kernels are registered in a probe child). */
async function onStockCpu(gradients: boolean): Promise<Float32Array[]> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not start');
  return convolutionSample(gradients);
}

export async function probeHere(name: BackendName): Promise<LocalProbe> {
  let active: ActiveBackend;
  try {
    active = await startBackend(name);
  } catch (err) {
    return { loads: false, canInfer: false, canTrain: false, softwareGpu: false, reason: wordsOf(err), device: null, memoryBytes: null, memorySource: null };
  }
  const missing = missingTrainingKernels(TFJS_BACKEND_NAME[name]);
  const forward = await sampleOrError(false);
  const training = missing.length === 0 && typeof forward !== 'string' ? await sampleOrError(true) : null;

  const base = { softwareGpu: active.softwareGpu, device: active.device, memoryBytes: active.memoryBytes, memorySource: active.memorySource, ...(active.features ? { features: active.features } : {}) };
  const broken = (reason: string): LocalProbe => ({ ...base, loads: false, canInfer: false, canTrain: false, reason });
  if (typeof forward === 'string') return broken(`it starts, but a convolution fails: ${forward}`);
  const forwardDiff = largestRelativeDifference(forward, await onStockCpu(false));
  if (!(forwardDiff <= RELATIVE_TOLERANCE)) return broken(`it starts, but computes a convolution wrongly (relative difference ${forwardDiff.toPrecision(2)} from the CPU backend)`);

  const inferOnly = (reason: string): LocalProbe => ({ ...base, loads: true, canInfer: true, canTrain: false, reason });
  if (missing.length > 0) return inferOnly(`it has no gradient kernels for ${missing.join(', ')}, so it can run a trained model but cannot train one`);
  if (typeof training === 'string') return inferOnly(`computing convolution gradients fails: ${training}`);
  const trainingDiff = largestRelativeDifference(training!, await onStockCpu(true));
  if (!(trainingDiff <= RELATIVE_TOLERANCE)) return inferOnly(`its convolution gradients are wrong (relative difference ${trainingDiff.toPrecision(2)} from the CPU backend), so it cannot train`);
  return { ...base, loads: true, canInfer: true, canTrain: true, reason: null };
}
