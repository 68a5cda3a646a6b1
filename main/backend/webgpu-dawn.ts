/**
 * WebGPU in plain Node through Dawn, Chromium's WebGPU implementation, shipped as the `webgpu`
 * npm package. @tensorflow/tfjs-backend-webgpu was written for browsers: it registers its backend
 * only if `navigator.gpu` exists when it is imported, so Dawn's GPU object is installed first and
 * the tfjs package is imported after it, dynamically.
 *
 * Without a GPU, Chromium's SwiftShader (a Vulkan driver that runs on the CPU) can stand in for
 * one; the probe uses it to tell "WebGPU works here but only in software" from "no WebGPU at all",
 * and the tests use it to exercise the WebGPU path on machines without a GPU.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The parts of the WebGPU API this module reads (the `webgpu` package types it as DOM's GPU). */
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface AdapterLike {
  info?: AdapterInfoLike;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize?: number };
  features?: { has(name: string): boolean };
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>;
}

export interface WebGpuAdapterSummary {
  device: string;
  /** A CPU emulation (SwiftShader, llvmpipe, WARP): correct but slower than our CPU backends. */
  software: boolean;
  /** WebGPU exposes no total memory; the largest buffer the adapter allows is what it tells. */
  maxBufferSize: number;
  /** the optional features our engine can use that the adapter has (absent when the adapter does not list features) */
  features?: string[];
  /** the largest storage binding: the engine's whole arena must fit one */
  maxStorageBufferBindingSize?: number;
}

/** Optional WebGPU features the engine's kernels can use (main/engine). */
const ENGINE_FEATURES = ['shader-f16', 'subgroups'] as const;

/** Where Chromium and Chrome keep SwiftShader's Vulkan driver manifest (Debian, Fedora, Google Chrome). */
const SWIFTSHADER_ICD_FILES = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

type NavigatorWithGpu = { gpu?: GpuLike };

function currentNavigator(): NavigatorWithGpu | undefined {
  return (globalThis as unknown as { navigator?: NavigatorWithGpu }).navigator;
}

/**
 * Give this process a `navigator.gpu` backed by Dawn, once, for the life of the process. Node 21+
 * has a navigator of its own without `gpu`: the field is added to it, so its other fields keep
 * working.
 *
 * It is never removed. The webgpu package's README suggests deleting it so that Node can exit,
 * but with webgpu 0.6.2 garbage-collecting Dawn's GPU object after a device was made aborts the
 * process (std::system_error, or glibc's "futex facility returned an unexpected error code"),
 * while a process that keeps it exits normally once its work is done.
 */
export async function installNavigatorGpu(): Promise<GpuLike> {
  const existing = currentNavigator();
  if (existing?.gpu) return existing.gpu;
  const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
  // GPUBufferUsage, GPUShaderStage, ... are globals in a browser; tfjs-backend-webgpu reads them.
  Object.assign(globalThis, globals);
  const gpu = create([]);
  if (existing) Object.defineProperty(existing, 'gpu', { value: gpu, configurable: true, enumerable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return gpu;
}

/** The adapter tfjs-backend-webgpu will also pick (it asks for high performance), or null. */
export async function findWebGpuAdapter(): Promise<WebGpuAdapterSummary | null> {
  const gpu = await installNavigatorGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  return adapter ? summarizeAdapter(adapter) : null;
}

export function summarizeAdapter(adapter: AdapterLike): WebGpuAdapterSummary {
  const info = adapter.info ?? {};
  const name = info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unnamed WebGPU adapter';
  const words = [info.vendor, info.architecture, info.device, info.description].join(' ');
  const software = info.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render/i.test(words);
  const device = software ? `${name} (software, runs on the CPU)` : name;
  const summary: WebGpuAdapterSummary = { device, software, maxBufferSize: adapter.limits.maxBufferSize };
  if (!adapter.features) return summary;
  // doctor shows what the engine can use: f16 and subgroup kernels, and how large its arena can be
  const features = ENGINE_FEATURES.filter((f) => adapter.features!.has(f));
  const binding = adapter.limits.maxStorageBufferBindingSize;
  const extras = [features.length > 0 ? features.join(', ') : 'no shader-f16 or subgroups', binding ? `largest storage binding ${Math.round(binding / 2 ** 20)} MiB` : null].filter(Boolean);
  return { ...summary, device: `${device}; ${extras.join('; ')}`, features, ...(binding ? { maxStorageBufferBindingSize: binding } : {}) };
}

/** SwiftShader's driver manifest if a Chromium or Chrome install has one (Linux only). */
export function findSwiftShaderIcd(): string | null {
  if (process.platform !== 'linux') return null;
  return SWIFTSHADER_ICD_FILES.find((file) => fs.existsSync(file)) ?? null;
}

/**
 * Environment for a process to run WebGPU on SwiftShader: the Vulkan loader is pointed at the
 * driver manifest. Machines without a GPU often have no Vulkan loader (libvulkan.so.1) either;
 * Chromium ships one beside SwiftShader, found through LD_LIBRARY_PATH, which the dynamic linker
 * reads only when a process starts: that one variable must be set by whoever starts the process.
 */
export function swiftShaderEnv(icdFile: string, needsLoader: boolean): Record<string, string> {
  const env: Record<string, string> = { VK_ICD_FILENAMES: icdFile };
  const dir = path.dirname(icdFile);
  if (needsLoader && fs.existsSync(path.join(dir, 'libvulkan.so.1'))) {
    env.LD_LIBRARY_PATH = [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(path.delimiter);
  }
  return env;
}

/** Variables the dynamic linker reads at process start only; setting them later changes nothing. */
export const STARTUP_ONLY_ENV = new Set(['LD_LIBRARY_PATH', 'DYLD_LIBRARY_PATH']);

/** Dawn's own explanation when it finds no adapter is a warning on stderr, e.g. "Couldn't load Vulkan: ...". */
export function dawnWarnings(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^Warning: /.test(line))
    .map((line) => line.replace(/^Warning: /, ''));
}
