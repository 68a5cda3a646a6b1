/**
 * An ONNX graph under construction: nodes in topological order, initializers, unique value
 * names, and the storage format of weights (float32, float16 + Cast, uint8 + DequantizeLinear).
 */
import { AttributeType, DataType, type AttributeObject, type NodeObject, type TensorObject } from './onnx-proto';
import { quantizeUint8PerChannel, toFloat16 } from './quantize';

export type Quantize = 'none' | 'float16' | 'uint8';

/**
 * Weights below this many numbers stay float32 in every format: they cost nothing, and the tiny
 * ones are the most sensitive (the preprocessing constants, biases, BatchNorm parameters).
 */
export const MIN_QUANTIZED_ELEMENTS = 256;

export const attr = {
  int: (name: string, i: number): AttributeObject => ({ name, type: AttributeType.INT, i }),
  ints: (name: string, ints: readonly number[]): AttributeObject => ({ name, type: AttributeType.INTS, ints: [...ints] }),
  float: (name: string, f: number): AttributeObject => ({ name, type: AttributeType.FLOAT, f }),
};

export class OnnxGraph {
  readonly nodes: NodeObject[] = [];
  readonly initializers: TensorObject[] = [];
  private readonly used = new Set<string>();

  constructor(private readonly quantize: Quantize) {}

  /** A value name not used yet: `base`, else `base_1`, `base_2`, ... */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Reserve a name that must appear exactly as given (graph inputs and outputs). */
  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`internal error: ONNX value name ${name} is used twice`);
    this.used.add(name);
    return name;
  }

  /** Append a node with one output; returns the output's name. */
  op(opType: string, inputs: readonly string[], outputBase: string, attributes: AttributeObject[] = []): string {
    const output = this.uniqueName(outputBase);
    this.nodes.push({ name: output, op_type: opType, input: [...inputs], output: [output], attribute: attributes });
    return output;
  }

  /** Give a value produced by a node another name (the graph output's fixed name). */
  rename(from: string, to: string): boolean {
    const producer = this.nodes.find((n) => n.output.includes(from));
    if (!producer) return false;
    for (const node of this.nodes) {
      node.input = node.input.map((v) => (v === from ? to : v));
      node.output = node.output.map((v) => (v === from ? to : v));
    }
    return true;
  }

  /** A float32 constant kept exact whatever the quantization (shapes of small parameters). */
  floatConstant(base: string, values: Float32Array, dims: readonly number[]): string {
    const name = this.uniqueName(base);
    this.initializers.push(tensor(name, DataType.FLOAT, dims, bytesOf(values)));
    return name;
  }

  int64Constant(base: string, values: readonly number[]): string {
    const name = this.uniqueName(base);
    this.initializers.push(tensor(name, DataType.INT64, [values.length], bytesOf(BigInt64Array.from(values.map(BigInt)))));
    return name;
  }

  /**
   * A weight tensor in the graph's storage format; returns the name of its float32 value.
   * `channelAxis` is the output-channel axis that uint8 quantizes per channel.
   */
  weight(base: string, values: Float32Array, dims: readonly number[], channelAxis: number): string {
    if (this.quantize === 'none' || values.length < MIN_QUANTIZED_ELEMENTS) return this.floatConstant(base, values, dims);
    if (this.quantize === 'float16') {
      const stored = this.uniqueName(`${base}_float16`);
      this.initializers.push(tensor(stored, DataType.FLOAT16, dims, bytesOf(toFloat16(values))));
      return this.op('Cast', [stored], base, [attr.int('to', DataType.FLOAT)]);
    }
    const q = quantizeUint8PerChannel(values, dims, channelAxis);
    const stored = this.uniqueName(`${base}_uint8`);
    this.initializers.push(tensor(stored, DataType.UINT8, dims, q.values));
    const scale = this.floatConstant(`${base}_scale`, q.scale, [q.scale.length]);
    const zeroPointName = this.uniqueName(`${base}_zero_point`);
    this.initializers.push(tensor(zeroPointName, DataType.UINT8, [q.zeroPoint.length], q.zeroPoint));
    return this.op('DequantizeLinear', [stored, scale, zeroPointName], base, [attr.int('axis', channelAxis)]);
  }
}

function tensor(name: string, dataType: TensorObject['data_type'], dims: readonly number[], raw: Uint8Array): TensorObject {
  return { name, dims: [...dims], data_type: dataType, raw_data: raw };
}

/** ONNX raw_data is little-endian, as typed arrays are on every platform Effitune runs on (x64, arm64). */
function bytesOf(values: Float32Array | Uint16Array | BigInt64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
