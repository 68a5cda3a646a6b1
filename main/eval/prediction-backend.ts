/**
 * The TensorFlow.js backend predictions run on, in the process that predicts (the service's
 * predictor process, or a script's own). A process that already has an active backend (an earlier
 * job, a test that picked one) keeps it: the backend is global to the process, and switching it
 * under loaded models would break them. A bare process picks the best backend that can infer here, once: select-backend
 * probes the ladder in child processes (a GPU through WebGPU or libtensorflow when one works, else
 * wasm, the fast CPU choice, else the JS cpu backend). A caller may force one (--backend).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../contract/calls-backend';
import { selectBackend } from '../backend/select-backend';
import { TFJS_BACKEND_NAME } from '../backend/start-backend';
import { useBackend } from '../backend/tfjs-backend';

let selection: Promise<void> | null = null;

/** Make sure a backend is active (forcing `requested` when given); returns TensorFlow.js' name of it. */
export async function ensurePredictionBackend(requested?: BackendName): Promise<string> {
  if (requested) {
    if (activeBackendName() !== TFJS_BACKEND_NAME[requested]) await useBackend(requested);
    return tf.getBackend();
  }
  if (activeBackendName() === undefined) {
    selection ??= selectBackend({ purpose: 'infer' }).then(
      () => undefined,
      (err: unknown) => {
        selection = null;
        throw err;
      },
    );
    await selection;
  }
  return tf.getBackend();
}

/** The backend set in this process, without starting one (tf.getBackend() would start the best registered). */
function activeBackendName(): string | undefined {
  return (tf.engine() as unknown as { backendName?: string }).backendName ?? undefined;
}
