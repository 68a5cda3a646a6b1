/**
 * Faster kernels for the plain JS CPU backend of TensorFlow.js, registered in place of the stock
 * ones for backendName 'cpu'. Training an EfficientNet on the stock CPU kernels spends ~75 % of a
 * step in Conv2DBackpropFilter and most of the rest in broadcast arithmetic, reductions and the
 * depthwise gradients; these kernels do the same arithmetic as matrix products and tight loops.
 *
 * Each fast kernel covers float32 NHWC (what tf.layers models use) and hands anything else back to
 * the stock kernel it replaced, so registering them never changes what a program can run.
 * Gradients are registered per kernel name, not per backend, and are unaffected.
 *
 * registerWasmTrainingKernels (wasm-training.ts) adds the gradient kernels the WASM backend lacks,
 * so tf.layers models can train there too; measured faster than the CPU backend with these.
 */
import '@tensorflow/tfjs-backend-cpu';
import {
  Add,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  DepthwiseConv2dNative,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  FusedConv2D,
  getKernel,
  Mean,
  Multiply,
  RealDiv,
  registerKernel,
  Rsqrt,
  Sigmoid,
  Sqrt,
  Sub,
  Sum,
  Tile,
  unregisterKernel,
  type KernelConfig,
  type KernelFunc,
} from '@tensorflow/tfjs-core';
import { binaryKernel } from './broadcast-binary';
import { conv2d, fusedConv2d } from './conv2d';
import { conv2dBackpropFilter } from './conv2d-backprop-filter';
import { conv2dBackpropInput } from './conv2d-backprop-input';
import { depthwiseConv2d, depthwiseConv2dBackpropFilter, depthwiseConv2dBackpropInput } from './depthwise-conv2d';
import { mean, sum } from './reduce';
import { withFallback, type FastKernel } from './tensor-data';
import { tile } from './tile';
import { rsqrt, sigmoid, sqrt } from './unary';

export { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './wasm-training';

const BACKEND = 'cpu';

const FAST_KERNELS: Readonly<Record<string, FastKernel>> = {
  [Conv2D]: conv2d,
  [FusedConv2D]: fusedConv2d,
  [Conv2DBackpropFilter]: conv2dBackpropFilter,
  [Conv2DBackpropInput]: conv2dBackpropInput,
  [DepthwiseConv2dNative]: depthwiseConv2d,
  [DepthwiseConv2dNativeBackpropFilter]: depthwiseConv2dBackpropFilter,
  [DepthwiseConv2dNativeBackpropInput]: depthwiseConv2dBackpropInput,
  [Add]: binaryKernel('add'),
  [Sub]: binaryKernel('sub'),
  [Multiply]: binaryKernel('mul'),
  [RealDiv]: binaryKernel('div'),
  [Sum]: sum,
  [Mean]: mean,
  [Tile]: tile,
  [Sigmoid]: sigmoid,
  [Sqrt]: sqrt,
  [Rsqrt]: rsqrt,
};

/** The kernel names this module replaces on the 'cpu' backend. */
export const FAST_CPU_KERNEL_NAMES: readonly string[] = Object.keys(FAST_KERNELS);

/** The stock configs, captured the first time they are replaced. */
const stockConfigs = new Map<string, KernelConfig>();
/** The configs registered by registerFastCpuKernels, to tell whether ours are the ones in place. */
const fastConfigs = new Map<string, KernelConfig>();

/**
 * Register the fast kernels for the 'cpu' backend. Idempotent; takes effect for every later
 * operation, including on an already-initialised backend (kernels are looked up per call).
 */
export function registerFastCpuKernels(): void {
  for (const name of FAST_CPU_KERNEL_NAMES) {
    const current = getKernel(name, BACKEND);
    if (current !== undefined && current === fastConfigs.get(name)) continue;
    const stock = stockConfigs.get(name) ?? current;
    if (stock === undefined) throw new Error(`the stock ${name} kernel of the cpu backend is not registered; is @tensorflow/tfjs-backend-cpu installed?`);
    stockConfigs.set(name, stock);
    const fast: KernelConfig = { ...stock, kernelFunc: withFallback(FAST_KERNELS[name], stock.kernelFunc) };
    fastConfigs.set(name, fast);
    if (current !== undefined) unregisterKernel(name, BACKEND);
    registerKernel(fast);
  }
}

/** Put the stock kernels back (benchmarks and tests compare the two in one process). */
export function unregisterFastCpuKernels(): void {
  for (const name of FAST_CPU_KERNEL_NAMES) {
    const stock = stockConfigs.get(name);
    if (stock === undefined || getKernel(name, BACKEND) === stock) continue;
    if (getKernel(name, BACKEND) !== undefined) unregisterKernel(name, BACKEND);
    registerKernel(stock);
  }
}

export function fastCpuKernelsRegistered(): boolean {
  return FAST_CPU_KERNEL_NAMES.every((name) => getKernel(name, BACKEND) === fastConfigs.get(name) && fastConfigs.has(name));
}

/** The stock kernel function for a name this module replaces, registered or not. */
export function stockCpuKernel(name: string): KernelFunc {
  const config = stockConfigs.get(name) ?? getKernel(name, BACKEND);
  if (config === undefined) throw new Error(`no stock cpu kernel named ${name}`);
  return config.kernelFunc;
}
