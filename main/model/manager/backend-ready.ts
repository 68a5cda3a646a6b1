import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type BackendName } from '../../backend/tfjs-backend';

/**
 * Building or running a model needs an active TensorFlow.js backend. A process that picked one
 * (the trainer, the app after its backend choice) keeps it; a bare process (the CLI) gets the
 * plain JS cpu backend, which always works and gives the same numbers everywhere.
 */
export async function ensureBackend(requested?: BackendName): Promise<string> {
  if (requested && tf.getBackend() !== requested) await useBackend(requested);
  else if (!tf.getBackend()) await useBackend('cpu');
  return tf.getBackend();
}
