/**
 * Selecting a TensorFlow.js backend by name in plain Node (tests, CLI, benchmarks). Each backend
 * package registers itself on import; importing lazily keeps unused ones (and their wasm or GPU
 * start-up) out of processes that do not ask for them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ApiError } from '../api/contract';

export type BackendName = 'cpu' | 'wasm' | 'webgpu';

/** Make `name` the active backend; throws ApiError saying why when it cannot start here. */
export async function useBackend(name: BackendName): Promise<void> {
  try {
    if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
    else if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    else await prepareWebGpu();
    if (!(await tf.setBackend(name))) throw new Error('tf.setBackend returned false');
    await tf.ready();
  } catch (err) {
    throw new ApiError('internal', `the ${name} backend does not start here: ${(err as Error).message}`);
  }
}

/**
 * tfjs-backend-webgpu expects a browser's navigator.gpu; in Node the `webgpu` package (Dawn)
 * provides one. Without a Vulkan/Metal/D3D12 device, Dawn finds no adapter and this throws.
 */
async function prepareWebGpu(): Promise<void> {
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    const { create, globals } = (await import('webgpu')) as unknown as { create: (opts: string[]) => unknown; globals: Record<string, unknown> };
    Object.assign(globalThis, globals);
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu: create([]) }, configurable: true, writable: true });
  }
  const adapter = await (g.navigator!.gpu as { requestAdapter(): Promise<unknown> }).requestAdapter();
  if (!adapter) throw new Error('WebGPU found no GPU adapter (no Vulkan/Metal/D3D12 device)');
  await import('@tensorflow/tfjs-backend-webgpu');
}
