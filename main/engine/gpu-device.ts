/// <reference types="@webgpu/types" />
/**
 * The engine's GPU: one Dawn device (the `webgpu` package, see backend/webgpu-dawn.ts) with the
 * features the kernels can use (shader-f16, subgroups) when the adapter has them, and the limits
 * raised to what the adapter allows (a training arena is one large storage buffer).
 *
 * Dawn in Node keeps a thread polling while a device lives; `release()` destroys the device so an
 * idle app process does not stay hot (issue: a device that busy-waits one core). Training opens the
 * device in the trainer process only and releases it when the run ends.
 */
import { installNavigatorGpu, summarizeAdapter, type WebGpuAdapterSummary } from '../backend/webgpu-dawn';

export interface EngineDevice {
  readonly device: GPUDevice;
  readonly adapter: WebGpuAdapterSummary;
  /** optional features the device was created with */
  readonly features: { f16: boolean; subgroups: boolean; timestamps: boolean };
  readonly limits: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupsPerDimension: number; minStorageBufferOffsetAlignment: number; maxStorageBuffersPerShaderStage: number };
  /** the first uncaptured error the device reported (validation, out of memory), or null */
  error(): string | null;
  release(): void;
}

export interface OpenOptions {
  /** leave shader-f16 and subgroups off even where the adapter has them (the fp32 path) */
  fp32Only?: boolean;
  /** ask for timestamp-query where the adapter has it (profile.ts; the benchmark's profile) */
  timestamps?: boolean;
}

export async function openEngineDevice(options: OpenOptions = {}): Promise<EngineDevice> {
  const gpu = (await installNavigatorGpu()) as unknown as GPU;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter: the engine needs a GPU (or SwiftShader for tests)');
  const wanted: GPUFeatureName[] = [];
  const f16 = !options.fp32Only && adapter.features.has('shader-f16');
  const subgroups = !options.fp32Only && adapter.features.has('subgroups' as GPUFeatureName);
  if (f16) wanted.push('shader-f16');
  if (subgroups) wanted.push('subgroups' as GPUFeatureName);
  const timestamps = options.timestamps === true && adapter.features.has('timestamp-query');
  if (timestamps) wanted.push('timestamp-query');
  const a = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: wanted,
    requiredLimits: {
      maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
      maxBufferSize: a.maxBufferSize,
      maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
      maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: a.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
    },
  });
  let firstError: string | null = null;
  device.addEventListener('uncapturederror', (event) => {
    firstError ??= (event as GPUUncapturedErrorEvent).error.message;
  });
  const limits = device.limits;
  return {
    device,
    adapter: summarizeAdapter(adapter as never),
    features: { f16, subgroups, timestamps },
    limits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      minStorageBufferOffsetAlignment: limits.minStorageBufferOffsetAlignment,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
    error: () => firstError,
    release: () => device.destroy(),
  };
}
