/**
 * TF.js layers model → ONNX file. The ONNX model takes what the app's model takes, RGB pixels
 * 0..255 as float32 NHWC named "pixels" ([batch, H, W, 3], preprocessing inside), and gives what
 * it gives, named "probabilities" ([batch, classes]). Inside, images run NCHW, the layout every
 * ONNX runtime is fastest in: one Transpose after the input.
 *
 * Quantization changes how weights are stored, never what is computed: 'float16' stores them as
 * half floats expanded by Cast, 'uint8' as per-output-channel affine bytes expanded by
 * DequantizeLinear (per-axis needs opset ≥ 13); arithmetic stays float32 either way.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../../contract/contract';
import { LayerConverter } from './convert-layers';
import { OnnxGraph, type Quantize } from './graph';
import { readModelGraph } from './model-graph';
import { DataType, encodeModel, valueInfo } from './onnx-proto';

export type { Quantize } from './graph';
export { SUPPORTED_LAYERS } from './convert-layers';

export interface OnnxExportOptions {
  quantize?: Quantize;
  /** ONNX operator set, 13 (the default) to MAX_OPSET */
  opset?: number;
  /** written to the file's producer_version (the app's version) */
  producerVersion?: string;
}

export const INPUT_NAME = 'pixels';
export const OUTPUT_NAME = 'probabilities';
export const MIN_OPSET = 13;
/** the newest opset this converter's graphs have been run at with onnxruntime */
export const MAX_OPSET = 21;

export async function tfjsModelToOnnx(model: tfl.LayersModel, options: OnnxExportOptions = {}): Promise<Uint8Array> {
  const quantize = options.quantize ?? 'none';
  const opset = options.opset ?? MIN_OPSET;
  if (!['none', 'float16', 'uint8'].includes(quantize)) throw new ApiError('invalid_input', `quantize must be none, float16 or uint8, got ${String(quantize)}`);
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ApiError('invalid_input', `opset must be a whole number from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`);
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ApiError('invalid_input', `model ${model.name} has ${model.inputs.length} inputs and ${model.outputs.length} outputs: ONNX export needs one of each`);
  }
  const [input] = model.inputs;
  const [output] = model.outputs;
  if (input.dtype !== 'float32') throw new ApiError('invalid_input', `model ${model.name} takes ${input.dtype} input: ONNX export needs float32 pixels`);

  const graph = new OnnxGraph(quantize);
  const calls = readModelGraph(model);
  const converter = new LayerConverter(graph, calls);
  converter.bindInput(input, graph.reserve(INPUT_NAME));
  graph.reserve(OUTPUT_NAME);
  for (const call of calls.calls) converter.convert(call);
  const result = converter.outputValue(output);
  if (!graph.rename(result.name, OUTPUT_NAME)) graph.op('Identity', [result.name], OUTPUT_NAME);

  return encodeModel({
    ir_version: irVersionFor(opset),
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'effitune',
    producer_version: options.producerVersion ?? '',
    doc_string: `${model.name}: RGB pixels 0..255 as float32 NHWC in "${INPUT_NAME}", the model's output in "${OUTPUT_NAME}"; weights stored as ${quantize === 'none' ? 'float32' : quantize}`,
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(INPUT_NAME, DataType.FLOAT, ['batch', ...(input.shape.slice(1) as number[])])],
      output: [valueInfo(OUTPUT_NAME, DataType.FLOAT, ['batch', ...result.shape])],
    },
  });
}

/** The IR version of the ONNX release that introduced each opset (onnx/docs/Versioning.md). */
function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}
