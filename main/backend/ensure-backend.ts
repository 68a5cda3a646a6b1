import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../contract/calls-backend';
import { TFJS_BACKEND_NAME } from './start-backend';
import { useBackend } from './tfjs-backend';

/**
 * Building or running a model needs an active TensorFlow.js backend. A process that picked one
 * (the trainer, the app after its backend choice) keeps it; a bare process (the CLI) gets the cpu
 * backend, which always works and gives the same numbers everywhere. Returns TensorFlow.js' name
 * of the active backend.
 */
export async function ensureBackend(requested?: BackendName): Promise<string> {
  if (requested && tf.getBackend() !== TFJS_BACKEND_NAME[requested]) await useBackend(requested);
  else if (!tf.getBackend()) await useBackend('cpu');
  return tf.getBackend();
}
