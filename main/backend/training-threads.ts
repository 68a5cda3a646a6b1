/**
 * How many CPU threads a training backend computes on, in words for the run's record. The WASM
 * backend is the default without a GPU, and in Node it runs on one thread: tfjs-backend-wasm 4.22
 * reports no thread support under Node (WASM_HAS_MULTITHREAD_SUPPORT is false there, tfjs issue
 * 3830), and forcing its threaded build fails because its pthread workers are started from blob:
 * URLs, which Node's worker_threads refuse (ERR_WORKER_PATH). What is pure inference in a run —
 * head-mode features and the frozen trunk of top-N mode — runs on ONNX Runtime on every core instead.
 */
import type { ActiveBackend } from './start-backend';

export function trainingThreads(backend: ActiveBackend): string {
  switch (backend.name) {
    case 'wasm':
      return 'training computes on 1 thread (tfjs-backend-wasm runs single-threaded in Node: its threaded build needs Web Workers from blob: URLs, which Node refuses); frozen parts run on ONNX Runtime on every core';
    case 'cpu':
      return 'training computes on 1 thread (the JavaScript CPU backend); frozen parts run on ONNX Runtime on every core';
    case 'tfjs-node':
      return "training computes on libtensorflow's thread pool (every core)";
    default:
      return `training computes on the GPU (${backend.device})`;
  }
}
