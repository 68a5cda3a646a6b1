/**
 * The graph a provider probe runs: one 3×3 convolution and a Relu on a small image, the operator
 * class our models spend their time in, with a known answer computed here. A provider that
 * registers but computes wrongly is caught, not only one that fails to load.
 */
import { AttributeType, DataType, encodeModel, valueInfo } from './onnx/onnx-proto';

const SIZE = 6;
const CHANNELS = 2;

export interface ProbeGraph {
  bytes: Uint8Array;
  input: Float32Array;
  dims: number[];
  expected: Float32Array;
}

export function probeGraph(): ProbeGraph {
  const input = Float32Array.from({ length: CHANNELS * SIZE * SIZE }, (_, i) => ((i * 7) % 11) - 5);
  const weights = Float32Array.from({ length: CHANNELS * CHANNELS * 9 }, (_, i) => ((i * 5) % 7) / 7 - 0.4);
  const bytes = encodeModel({
    ir_version: 7,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'effitune',
    graph: {
      name: 'provider_probe',
      node: [
        { name: 'conv', op_type: 'Conv', input: ['x', 'w'], output: ['c'], attribute: [{ name: 'pads', type: AttributeType.INTS, ints: [1, 1, 1, 1] }] },
        { name: 'relu', op_type: 'Relu', input: ['c'], output: ['y'] },
      ],
      initializer: [{ name: 'w', data_type: DataType.FLOAT, dims: [CHANNELS, CHANNELS, 3, 3], raw_data: new Uint8Array(weights.buffer) }],
      input: [valueInfo('x', DataType.FLOAT, [1, CHANNELS, SIZE, SIZE])],
      output: [valueInfo('y', DataType.FLOAT, [1, CHANNELS, SIZE, SIZE])],
    },
  });
  return { bytes, input, dims: [1, CHANNELS, SIZE, SIZE], expected: conv3x3Relu(input, weights) };
}

function conv3x3Relu(x: Float32Array, w: Float32Array): Float32Array {
  const out = new Float32Array(CHANNELS * SIZE * SIZE);
  for (let o = 0; o < CHANNELS; o++) {
    for (let r = 0; r < SIZE; r++) {
      for (let c = 0; c < SIZE; c++) {
        let sum = 0;
        for (let i = 0; i < CHANNELS; i++) {
          for (let kr = 0; kr < 3; kr++) {
            for (let kc = 0; kc < 3; kc++) {
              const rr = r + kr - 1;
              const cc = c + kc - 1;
              if (rr < 0 || cc < 0 || rr >= SIZE || cc >= SIZE) continue;
              sum += x[(i * SIZE + rr) * SIZE + cc] * w[((o * CHANNELS + i) * 3 + kr) * 3 + kc];
            }
          }
        }
        out[(o * SIZE + r) * SIZE + c] = Math.max(0, sum);
      }
    }
  }
  return out;
}

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return a.length === b.length ? max : Infinity;
}
