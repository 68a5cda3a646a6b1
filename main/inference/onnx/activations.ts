/**
 * tf.layers activations as ONNX operators. Each maps onto an ONNX op whose defaults compute the
 * same function as tfjs (hardSigmoid 0.2·x + 0.5, elu α = 1, selu's constants); swish is
 * x·sigmoid(x), written as two ops so every runtime has it.
 */
import { attr, type OnnxGraph } from './graph';

/** `axis` is where the channels are (softmax over channels): 1 in NCHW, −1 otherwise. */
export function emitActivation(graph: OnnxGraph, activation: string, x: string, base: string, channelAxis: number): string | null {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return graph.op('Relu', [x], base);
    case 'relu6':
      return graph.op('Clip', [x, scalar(graph, `${base}_min`, 0), scalar(graph, `${base}_max`, 6)], base);
    case 'sigmoid':
      return graph.op('Sigmoid', [x], base);
    case 'hardSigmoid':
      return graph.op('HardSigmoid', [x], base, [attr.float('alpha', 0.2), attr.float('beta', 0.5)]);
    case 'tanh':
      return graph.op('Tanh', [x], base);
    case 'swish':
      return graph.op('Mul', [x, graph.op('Sigmoid', [x], `${base}_sigmoid`)], base);
    case 'elu':
      return graph.op('Elu', [x], base, [attr.float('alpha', 1)]);
    case 'selu':
      return graph.op('Selu', [x], base);
    case 'softplus':
      return graph.op('Softplus', [x], base);
    case 'softsign':
      return graph.op('Softsign', [x], base);
    case 'softmax':
      return graph.op('Softmax', [x], base, [attr.int('axis', channelAxis)]);
    case 'logSoftmax':
      return graph.op('LogSoftmax', [x], base, [attr.int('axis', channelAxis)]);
    default:
      return null;
  }
}

export const SUPPORTED_ACTIVATIONS = ['linear', 'relu', 'relu6', 'sigmoid', 'hardSigmoid', 'tanh', 'swish', 'elu', 'selu', 'softplus', 'softsign', 'softmax', 'logSoftmax'];

function scalar(graph: OnnxGraph, base: string, value: number): string {
  return graph.floatConstant(base, Float32Array.of(value), []);
}
