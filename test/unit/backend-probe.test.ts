/**
 * The parts of the backend ladder that decide without starting a GPU: reading nvidia-smi and
 * WebGPU adapter descriptions, Dawn's warnings, the SwiftShader environment, the comparison of
 * results, the kernel registry check, and which report becomes the default.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendName, type BackendReport } from '../../main/contract/calls-backend';
import { convolutionSample, largestRelativeDifference, missingTrainingKernels, TRAINING_KERNELS } from '../../main/backend/capabilities';
import { gpuDriverHint, tfjsNodeGpuHint } from '../../main/backend/install-hints';
import { parseNvidiaSmi } from '../../main/backend/native-tensorflow';
import { defaultBackend, probeBackend, usableFor } from '../../main/backend/probe';
import { dawnWarnings, summarizeAdapter, swiftShaderEnv } from '../../main/backend/webgpu-dawn';
import { webGpuMemory } from '../../main/backend/start-backend';
import { makeTempDir, removeDir } from '../fixtures/temp';

const temp = makeTempDir('backend-probe');
afterAll(() => removeDir(temp));

describe('reading what the machine says', () => {
  it('parses nvidia-smi CSV into names and bytes, skipping blank and broken lines', () => {
    expect(parseNvidiaSmi('NVIDIA H100 80GB HBM3, 81559\n\nNVIDIA GeForce RTX 3060, 12288\n, 5\n')).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 1024 * 1024 },
      { name: 'NVIDIA GeForce RTX 3060', memoryBytes: 12288 * 1024 * 1024 },
    ]);
    expect(parseNvidiaSmi('')).toEqual([]);
  });

  it('tells a software WebGPU adapter from a GPU', () => {
    const swiftshader = summarizeAdapter({
      info: { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true },
      limits: { maxBufferSize: 2 ** 30 },
    });
    expect(swiftshader).toEqual({ device: 'SwiftShader driver 5.0.0 (software, runs on the CPU)', software: true, maxBufferSize: 2 ** 30 });
    // Older Dawn builds have no isFallbackAdapter; the driver's name still gives it away.
    expect(summarizeAdapter({ info: { vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' }, limits: { maxBufferSize: 1 } }).software).toBe(true);
    const nvidia = summarizeAdapter({ info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false }, limits: { maxBufferSize: 2 ** 34 } });
    expect(nvidia).toEqual({ device: 'NVIDIA H100 80GB HBM3', software: false, maxBufferSize: 2 ** 34 });
  });

  it("takes an NVIDIA adapter's memory from nvidia-smi (the GPU it names), elsewhere the largest buffer", () => {
    const adapter = { device: 'NVIDIA H100 80GB HBM3; shader-f16, subgroups; largest storage binding 4096 MiB', maxBufferSize: 2 ** 32 };
    const smi = parseNvidiaSmi('NVIDIA A10, 23028\nNVIDIA H100 80GB HBM3, 81559\n');
    expect(webGpuMemory(adapter, smi)).toEqual({ memoryBytes: 81559 * 2 ** 20, memorySource: 'GPU memory of NVIDIA H100 80GB HBM3 (nvidia-smi)' });
    // a name nvidia-smi does not list: its first GPU; none (no driver tool, or another vendor): the largest buffer
    expect(webGpuMemory({ ...adapter, device: 'NVIDIA GeForce RTX 4090' }, smi).memoryBytes).toBe(23028 * 2 ** 20);
    expect(webGpuMemory(adapter, [])).toEqual({ memoryBytes: 2 ** 32, memorySource: 'largest buffer the adapter allows (WebGPU reports no total)' });
    expect(webGpuMemory(adapter, [{ name: 'NVIDIA H100 80GB HBM3', memoryBytes: 0 }]).memoryBytes).toBe(2 ** 32);
  });

  it("names the features and the largest binding the engine can use, where the adapter lists them", () => {
    const has = (names: string[]) => ({ has: (n: string) => names.includes(n) });
    const gpu = summarizeAdapter({ info: { description: 'NVIDIA H200' }, limits: { maxBufferSize: 2 ** 34, maxStorageBufferBindingSize: 2 ** 31 }, features: has(['shader-f16', 'subgroups', 'timestamp-query']) });
    expect(gpu).toEqual({ device: 'NVIDIA H200; shader-f16, subgroups; largest storage binding 2048 MiB', software: false, maxBufferSize: 2 ** 34, features: ['shader-f16', 'subgroups'], maxStorageBufferBindingSize: 2 ** 31 });
    const swiftshader = summarizeAdapter({ info: { description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true }, limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27 }, features: has(['subgroups']) });
    expect(swiftshader.device).toBe('SwiftShader driver 5.0.0 (software, runs on the CPU); subgroups; largest storage binding 128 MiB');
    expect(summarizeAdapter({ info: { description: 'old' }, limits: { maxBufferSize: 1 }, features: has([]) }).device).toBe('old; no shader-f16 or subgroups');
  });

  it("keeps Dawn's warnings as the explanation of a missing adapter", () => {
    const stderr = [
      "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory",
      '    at operator() (/dawn/src/dawn/native/vulkan/BackendVk.cpp:368)',
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
    ].join('\n');
    expect(dawnWarnings(stderr)).toEqual(["Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory"]);
  });

  it('adds the Vulkan loader beside SwiftShader to LD_LIBRARY_PATH only when the system has none', () => {
    const icd = path.join(temp, 'vk_swiftshader_icd.json');
    fs.writeFileSync(icd, '{}');
    expect(swiftShaderEnv(icd, true)).toEqual({ VK_ICD_FILENAMES: icd }); // no loader shipped beside it
    fs.writeFileSync(path.join(temp, 'libvulkan.so.1'), '');
    expect(swiftShaderEnv(icd, false)).toEqual({ VK_ICD_FILENAMES: icd });
    expect(swiftShaderEnv(icd, true).LD_LIBRARY_PATH?.split(path.delimiter)[0]).toBe(temp);
  });

  it('has install hints that fit the platform', () => {
    expect(tfjsNodeGpuHint('darwin')).toBeNull();
    expect(tfjsNodeGpuHint('linux')).toContain(`@tensorflow/tfjs-node-gpu@${tf.version_core}`);
    expect(gpuDriverHint('linux')).toMatch(/Vulkan/);
    expect(gpuDriverHint('darwin')).toMatch(/Metal/);
    expect(gpuDriverHint('win32')).toMatch(/Direct3D 12/);
  });
});

describe('comparing results', () => {
  it('measures the largest difference relative to each output', () => {
    const ref = [Float32Array.from([1, -2, 4]), Float32Array.from([1000])];
    expect(largestRelativeDifference(ref, ref)).toBe(0);
    expect(largestRelativeDifference([Float32Array.from([1, -2, 4.004]), Float32Array.from([1000])], ref)).toBeCloseTo(0.001, 6);
    expect(largestRelativeDifference([Float32Array.from([1, -2, NaN]), Float32Array.from([1000])], ref)).toBe(Infinity);
    expect(largestRelativeDifference([Float32Array.from([1, -2])], ref)).toBe(Infinity);
  });

  it('finds the gradient kernels WASM lacks in the kernel registry', async () => {
    await import('@tensorflow/tfjs-backend-cpu');
    await import('@tensorflow/tfjs-backend-wasm');
    expect(missingTrainingKernels('cpu')).toEqual([]);
    expect(missingTrainingKernels('wasm')).toEqual(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']);
    expect(missingTrainingKernels('no-such-backend')).toEqual([...TRAINING_KERNELS]);
  });

  it('computes the sample convolution and its three gradients with the shapes of their inputs', async () => {
    await tf.setBackend('cpu');
    const [loss, dx, dFilter, dDepthwise] = await convolutionSample(true);
    expect(loss).toHaveLength(1);
    expect(loss[0]).toBeGreaterThan(0);
    expect([dx.length, dFilter.length, dDepthwise.length]).toEqual([7 * 7 * 3, 3 * 3 * 3 * 4, 3 * 3 * 4 * 2]);
    expect(Math.max(...Array.from(dFilter, Math.abs))).toBeGreaterThan(0);
  });
});

describe('choosing the default', () => {
  const report = (name: BackendName, fields: Partial<BackendReport> = {}): BackendReport => ({
    name,
    installed: true,
    loads: true,
    canTrain: true,
    canInfer: true,
    softwareGpu: false,
    reason: null,
    install: null,
    device: null,
    memoryBytes: null,
    memorySource: null,
    env: {},
    probeSeconds: 0,
    ...fields,
  });
  const ladder = (overrides: Partial<Record<BackendName, Partial<BackendReport>>>) => BackendName.options.map((name) => report(name, overrides[name]));

  it('takes the best that loads and can do the job, never a software GPU', () => {
    const here = ladder({
      'tfjs-node-gpu': { installed: false, loads: false, canTrain: false, canInfer: false },
      'tfjs-node': { installed: false, loads: false, canTrain: false, canInfer: false },
      webgpu: { softwareGpu: true },
      wasm: { canTrain: false },
    });
    expect(defaultBackend(here, 'train')).toBe('cpu');
    expect(defaultBackend(here, 'infer')).toBe('wasm');
    expect(usableFor(here[2], 'train')).toBe(true); // usable when forced
  });

  it('prefers a GPU, then native CPU TensorFlow', () => {
    expect(defaultBackend(ladder({}), 'train')).toBe('tfjs-node-gpu');
    expect(defaultBackend(ladder({ 'tfjs-node-gpu': { loads: false, canTrain: false, canInfer: false } }), 'train')).toBe('tfjs-node');
  });

  it('falls back to cpu when nothing qualifies', () => {
    const nothing = BackendName.options.map((name) => report(name, { loads: false, canTrain: false, canInfer: false }));
    expect(defaultBackend(nothing, 'train')).toBe('cpu');
  });
});

describe('the cpu rung, probed in this process', () => {
  it('always loads and trains, on this machine’s memory', async () => {
    const cpu = await probeBackend('cpu');
    expect(cpu).toMatchObject({ name: 'cpu', installed: true, loads: true, canTrain: true, canInfer: true, softwareGpu: false, reason: null, env: {} });
    expect(cpu.memoryBytes).toBeGreaterThan(0);
    expect(cpu.device).toMatch(/cores/);
  });
});
