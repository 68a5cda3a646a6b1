/**
 * Starting one backend of the ladder as the active TensorFlow.js backend of this process. Each
 * backend package registers itself on import; importing lazily keeps unused ones (their wasm, GPU
 * or native library start-up) out of processes that do not ask for them. Errors here are plain
 * (this module stays free of the contract, so probe children start fast); tfjs-backend.ts turns
 * them into ApiErrors for the rest of the app.
 */
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../contract/calls-backend';
import { listNvidiaGpus, loadNativeTensorflow, NATIVE_TF_BACKEND, type NvidiaGpu } from './native-tensorflow';
import { findWebGpuAdapter, type WebGpuAdapterSummary } from './webgpu-dawn';

const require = createRequire(import.meta.url);

/** The name TensorFlow.js itself registers each backend under. */
export const TFJS_BACKEND_NAME: Record<BackendName, string> = {
  'tfjs-node-gpu': NATIVE_TF_BACKEND,
  'tfjs-node': NATIVE_TF_BACKEND,
  webgpu: 'webgpu',
  wasm: 'wasm',
  cpu: 'cpu',
};

/** What an active backend computes on. */
export interface ActiveBackend {
  name: BackendName;
  device: string;
  softwareGpu: boolean;
  memoryBytes: number | null;
  memorySource: string | null;
  /** webgpu: the optional features the engine can use that the adapter has */
  features?: string[];
  /** webgpu: the largest storage binding the adapter allows (each of the engine's arenas must fit one) */
  maxBindingBytes?: number;
}

/** wasm32 addresses at most 4 GiB, and tfjs-backend-wasm is built to grow up to that. */
const WASM_MEMORY_LIMIT = 4 * 1024 ** 3;

/** Make `name` the active backend, or throw an Error saying why it cannot start here. */
export async function startBackend(name: BackendName): Promise<ActiveBackend> {
  switch (name) {
    case 'cpu':
      return startCpu();
    case 'wasm':
      return startWasm();
    case 'webgpu':
      return startWebGpu();
    case 'tfjs-node':
    case 'tfjs-node-gpu':
      return startNative(name);
  }
}

/** The backend instance if it was started; unlike tf.findBackend this never starts one. */
function initialisedBackend(tfName: string): tf.KernelBackend | undefined {
  return tf.engine().registry[tfName];
}

async function activate(tfName: string): Promise<void> {
  if (!(await tf.setBackend(tfName))) throw new Error(`TensorFlow.js could not initialise its ${tfName} backend`);
  await tf.ready();
}

export function cpuDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() || os.arch()}, ${cpus.length} cores`;
}

async function startCpu(): Promise<ActiveBackend> {
  await import('@tensorflow/tfjs-backend-cpu');
  // The stock JS kernels make training unusable (B0 at 64 px: about 0.1 images/s on two cores, most of
  // each step in Conv2DBackpropFilter); ours replace the dominant ones (npm run bench -- train compares).
  const { registerFastCpuKernels } = await import('./cpu-kernels');
  registerFastCpuKernels();
  await activate('cpu');
  // The cpu backend prints an "install tfjs-node" banner on its first tensor, on stderr of every
  // CLI command. `effitune doctor` already says which backends load and what to install, so the
  // banner is switched off here (its own flag, not PROD mode, so other tfjs warnings still show).
  const cpu = initialisedBackend('cpu') as (tf.KernelBackend & { firstUse?: boolean }) | undefined;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
  return { name: 'cpu', device: `${cpuDescription()} (JavaScript)`, softwareGpu: false, memoryBytes: os.totalmem(), memorySource: 'system memory' };
}

async function startWasm(): Promise<ActiveBackend> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // In Node the wasm files are found beside the package's own script; saying where they are
  // keeps that true when this code is bundled elsewhere. Allowed only before the first start.
  if (!initialisedBackend('wasm')) wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
  // tfjs-backend-wasm has no convolution gradients; ours (cpu-kernels/wasm-training.ts, each
  // tested equal to the stock CPU kernel) make it train B0 ~5x faster than the JS CPU backend
  // (`npm run bench -- train`). The probe reports canTrain from the kernel registry.
  const { registerWasmTrainingKernels } = await import('./cpu-kernels/wasm-training');
  registerWasmTrainingKernels();
  await activate('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = wasm.getThreadsCount();
  return {
    name: 'wasm',
    device: `WebAssembly${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'} on ${cpuDescription()}`,
    softwareGpu: false,
    memoryBytes: Math.min(os.totalmem(), WASM_MEMORY_LIMIT),
    memorySource: 'WebAssembly limit (4 GiB) or system memory, the smaller',
  };
}

/** The WebGPU backend factory set aside by releaseBackend, for the next startBackend('webgpu'). */
let releasedWebGpuFactory: { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number } | undefined;

async function startWebGpu(): Promise<ActiveBackend> {
  const adapter = await findWebGpuAdapter();
  if (!adapter) throw new Error('Dawn found no WebGPU adapter (no usable Vulkan, Metal or Direct3D 12 driver)');
  // Only now, with navigator.gpu in place, does the package register its backend.
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu') && releasedWebGpuFactory) tf.registerBackend('webgpu', releasedWebGpuFactory.factory, releasedWebGpuFactory.priority);
  if (!tf.findBackendFactory('webgpu')) throw new Error('tfjs-backend-webgpu did not register (it was imported before navigator.gpu existed)');
  await activate('webgpu');
  return {
    name: 'webgpu',
    device: adapter.device,
    softwareGpu: adapter.software,
    ...webGpuMemory(adapter, /nvidia/i.test(adapter.device) && !adapter.software ? await listNvidiaGpus() : []),
    ...(adapter.features ? { features: adapter.features } : {}),
    ...(adapter.maxStorageBufferBindingSize ? { maxBindingBytes: adapter.maxStorageBufferBindingSize } : {}),
  };
}

/**
 * What a WebGPU adapter's memory is taken to be: WebGPU reports no total, so on an NVIDIA GPU the
 * driver's own figure (nvidia-smi, the GPU whose name the adapter gives, else the first), elsewhere
 * the largest buffer the adapter allows (a lower bound: the engine's arenas may span several).
 */
export function webGpuMemory(adapter: Pick<WebGpuAdapterSummary, 'device' | 'maxBufferSize'>, nvidia: readonly NvidiaGpu[]): { memoryBytes: number; memorySource: string } {
  const named = nvidia.find((g) => g.memoryBytes > 0 && adapter.device.toLowerCase().includes(g.name.toLowerCase().replace(/^nvidia\s+/, '')));
  const gpu = named ?? nvidia.find((g) => g.memoryBytes > 0);
  if (gpu) return { memoryBytes: gpu.memoryBytes, memorySource: `GPU memory of ${gpu.name} (nvidia-smi)` };
  return { memoryBytes: adapter.maxBufferSize, memorySource: 'largest buffer the adapter allows (WebGPU reports no total)' };
}

async function startNative(name: 'tfjs-node' | 'tfjs-node-gpu'): Promise<ActiveBackend> {
  const info = await loadNativeTensorflow(`@tensorflow/${name}`);
  const nvidia = info.gpu ? await listNvidiaGpus() : [];
  if (nvidia.length > 0) {
    return { name, device: `${info.device}: ${nvidia[0].name}`, softwareGpu: false, memoryBytes: nvidia[0].memoryBytes, memorySource: 'GPU memory (nvidia-smi)' };
  }
  return { name, device: info.gpu ? info.device : `${info.device}; ${cpuDescription()}`, softwareGpu: false, memoryBytes: info.gpu ? null : os.totalmem(), memorySource: info.gpu ? null : 'system memory' };
}

/**
 * Let go of the GPU device the WebGPU backend holds (tfjs never destroys it), e.g. between runs
 * in a long-lived process. Dawn's GPU object itself stays: see installNavigatorGpu. Afterwards
 * an operation needs startBackend first (or falls to another registered backend).
 */
export function releaseBackend(): void {
  const webgpu = initialisedBackend('webgpu') as { device?: { destroy(): void } } | undefined;
  if (!webgpu) return;
  // removeBackend also forgets the factory the package registered on import (once per
  // process). It is kept here, not re-registered: an operation run before the next
  // startBackend must not pick WebGPU, tfjs' highest priority, behind the caller's back.
  releasedWebGpuFactory = tf.engine().registryFactory.webgpu;
  tf.removeBackend('webgpu');
  webgpu.device?.destroy();
}
