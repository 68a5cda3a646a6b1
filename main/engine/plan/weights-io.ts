/**
 * Weights between the engine's arena and a tf.layers model, by Keras weight name: the model the
 * rest of the app reads (checkpoints, resume, evaluation, ONNX/TF.js export, pretrained weights)
 * stays the one source of truth; the engine loads from it before training and writes back to it
 * whenever a checkpoint is due.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Arena } from '../arena';
import type { ParamLayout } from './param-layout';

function modelWeights(model: tfl.LayersModel): Map<string, tfl.LayersModel['weights'][number]> {
  return new Map(model.weights.map((w) => [w.originalName, w]));
}

/**
 * Upload every weight of `model` to its slot; a weight missing on either side is an error naming it.
 * Read asynchronously: on TF.js's WebGPU backend a synchronous read needs OffscreenCanvas, which
 * Node does not have.
 */
export async function loadWeightsFromModel(arena: Arena, params: ParamLayout, model: tfl.LayersModel): Promise<void> {
  const weights = modelWeights(model);
  for (const name of weights.keys()) if (!params.slots.has(name)) throw new Error(`engine: the plan has no slot for the model's weight ${name}`);
  for (const [name, slot] of params.slots) {
    const w = weights.get(name);
    if (!w) throw new Error(`engine: the model has no weight ${name}`);
    const data = (await w.read().data()) as Float32Array;
    if (data.length !== slot.value.length) throw new Error(`engine: ${name} has ${data.length} values in the model, ${slot.value.length} in the plan`);
    arena.write(slot.value, data);
  }
}

/** Read every slot back into the model's variables (one readback for all). */
export async function saveWeightsToModel(arena: Arena, params: ParamLayout, model: tfl.LayersModel): Promise<void> {
  // loaded here, not with the module: counting a plan (countTrainingStep, e.g. in the server's batch choice) needs no TF.js
  const tf = await import('@tensorflow/tfjs-core');
  const weights = modelWeights(model);
  const names = [...params.slots.keys()];
  const data = await arena.read(names.map((n) => params.slots.get(n)!.value));
  names.forEach((name, i) => {
    const w = weights.get(name)!;
    w.write(tf.tensor(data[i], w.shape as number[], 'float32'));
  });
}
