/**
 * The trainable top of a model in top-N mode as a model of its own: it takes the activations the
 * frozen trunk gives before block `block` and ends where the model ends. Its layers are the
 * model's own layers applied once more (tf.layers shares weights between the calls of a layer),
 * so training it trains the model, and the model — what checkpoints save and exports read — never
 * changes shape. The trunk itself then runs on ONNX Runtime (main/inference), not in TF.js.
 *
 * EfficientNet's skip connections stay inside a block, so the tensor entering a block's first
 * layer is everything the rest of the network sees of the image.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../contract/contract';

type Sym = tfl.SymbolicTensor;

export function topModelOf(model: tfl.LayersModel, block: string): tfl.LayersModel {
  const start = model.layers.findIndex((l) => l.name.startsWith(`${block}_`));
  if (start < 0) throw new ApiError('invalid_input', `model ${model.name} has no block ${block}`);
  const entry = model.layers[start].getInputAt(0);
  if (Array.isArray(entry)) throw new ApiError('invalid_input', `block ${block} of model ${model.name} takes several inputs: it cannot start a trainable top`);
  const input = tfl.input({ shape: entry.shape.slice(1) as number[], name: `${block}_trunk_output`, dtype: 'float32' });
  const mapped = new Map<number, Sym>([[entry.id, input]]);
  for (const layer of model.layers.slice(start)) {
    // a layer of a functional model built once has one call: the one inside the model
    const node = layer.inboundNodes[0];
    const inputs = node.inputTensors.map((t) => mapped.get(t.id));
    if (inputs.some((t) => t === undefined)) {
      throw new ApiError('invalid_input', `layer ${layer.name} of model ${model.name} reads a tensor from before block ${block}: the model cannot be split there`);
    }
    const out = layer.apply(inputs.length === 1 ? inputs[0]! : (inputs as Sym[]), node.callArgs) as Sym | Sym[];
    const outs = Array.isArray(out) ? out : [out];
    node.outputTensors.forEach((t, i) => mapped.set(t.id, outs[i]));
  }
  const outputs = model.outputs.map((o) => mapped.get(o.id)!);
  return tfl.model({ inputs: input, outputs: outputs.length === 1 ? outputs[0] : outputs, name: `${model.name}_top_${block}` });
}
