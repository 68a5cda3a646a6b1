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

/** Compiled pipelines by key (KernelContext.pipeline): shared by the plans of one device. */
export type PipelineCache = Map<string, GPUComputePipeline>;

export interface EngineDevice {
  readonly device: GPUDevice;
  readonly adapter: WebGpuAdapterSummary;
  /** optional features the device was created with */
  readonly features: { f16: boolean; subgroups: boolean; timestamps: boolean };
  /**
   * The subgroup size the reductions may rely on (kernels/lane-reduce.ts): the adapter's smallest,
   * checked on this device; 0 where subgroups are off (fp32Only, not on the adapter, or the check
   * failed: `subgroupsOff` says which).
   */
  readonly subgroupSize: number;
  readonly subgroupsOff: string | null;
  readonly limits: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupsPerDimension: number; minStorageBufferOffsetAlignment: number; maxStorageBuffersPerShaderStage: number };
  /**
   * the compiled pipelines of every plan on this device, by WGSL and arena kind (dispatch.ts
   * KernelContext): a run's validation and Precise BN plans reuse its training step's kernels
   */
  readonly pipelines: PipelineCache;
  /**
   * The first uncaptured error the device reported (validation, out of memory), or, once the device
   * is lost other than by `release()`, why (lostMessage); null while all is well.
   */
  error(): string | null;
  /**
   * Whether the device is lost (a driver reset or timeout, the GPU taken away): work on it then
   * fails, often as a rejected buffer read. Waits up to `waitMs` for the loss to be reported, as
   * the failed call may be heard of first.
   */
  lost(waitMs?: number): Promise<boolean>;
  release(): void;
}

/** The most one storage binding of the device holds, as a buffer can back it: what an arena above it is paged by (arena-pages.ts). */
export function deviceBindingBytes(gpu: Pick<EngineDevice, 'limits'>): number {
  return Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
}

/** What a run says when its GPU device is lost mid-work: what happened, and how to go on. */
export function lostMessage(reason: string, message: string): string {
  return `the GPU device was lost (${reason}${message ? `: ${message}` : ''}), as after a driver reset or timeout, or another program taking the GPU; resume the run (Continue, or effitune train --resume) to go on from its last finished epoch, with a smaller batch if it happens again`;
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
  let released = false;
  let lostWhy: string | null = null;
  const lostInfo = device.lost.then((info) => {
    if (!released) lostWhy = lostMessage(info.reason ?? 'unknown', info.message);
    return lostWhy !== null;
  });
  const limits = device.limits;
  let subgroupSize = 0;
  let subgroupsOff: string | null = options.fp32Only ? 'fp32 path asked for' : 'the adapter has no subgroups';
  if (subgroups) {
    const smallest = Number((adapter.info as unknown as { subgroupMinSize?: number }).subgroupMinSize ?? 4);
    subgroupsOff = await checkSubgroupLayout(device, smallest);
    if (subgroupsOff === null) subgroupSize = smallest;
  }
  return {
    device,
    adapter: summarizeAdapter(adapter as never),
    features: { f16, subgroups: subgroupSize > 0, timestamps },
    subgroupSize,
    subgroupsOff,
    limits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      minStorageBufferOffsetAlignment: limits.minStorageBufferOffsetAlignment,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
    pipelines: new Map(),
    error: () => lostWhy ?? firstError,
    lost: (waitMs = 200) => (lostWhy !== null ? Promise.resolve(true) : Promise.race([lostInfo, new Promise<boolean>((done) => setTimeout(() => done(false), waitMs).unref())])),
    release: () => {
      released = true;
      device.destroy();
    },
  };
}

const PROBE_WORKGROUP = 256;

/**
 * What the subgroup reductions assume and WGSL does not promise: in a 1-D workgroup, every aligned
 * run of `size` consecutive invocation indices is in one subgroup, lane = index mod size (so
 * subgroupShuffleXor(v, m) for m < size reads invocation lid ^ m). Run once on the device over a few
 * workgroups; null when it holds, else why not (the engine then keeps to shared memory).
 */
export async function checkSubgroupLayout(device: GPUDevice, size: number): Promise<string | null> {
  if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0 || size > PROBE_WORKGROUP) return `the adapter's smallest subgroup size ${size} is not a power of two from 4 to ${PROBE_WORKGROUP}`;
  const masks: number[] = [];
  for (let m = 1; m < size; m *= 2) masks.push(m);
  const code = `enable subgroups;
@group(0) @binding(0) var<storage, read_write> bad: array<u32>;
@compute @workgroup_size(${PROBE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_size) sgs: u32, @builtin(subgroup_invocation_id) lane: u32) {
  var flags = select(0u, 1u, sgs < ${size}u) | select(0u, 2u, lane != lid % sgs);
${masks.map((m) => `  if (subgroupShuffleXor(lid, ${m}u) != (lid ^ ${m}u)) { flags |= 4u; }`).join('\n')}
  bad[wid.x * ${PROBE_WORKGROUP}u + lid] = flags;
}`;
  const groups = 4;
  const bytes = groups * PROBE_WORKGROUP * 4;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: 'subgroup layout check', code });
  const pipeline = device.createComputePipeline({ label: 'subgroup layout check', layout: 'auto', compute: { module, entryPoint: 'main' } });
  const out = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(groups);
  pass.end();
  encoder.copyBufferToBuffer(out, 0, read, 0, bytes);
  device.queue.submit([encoder.finish()]);
  const invalid = await device.popErrorScope();
  if (invalid) {
    out.destroy();
    read.destroy();
    return `the subgroup check did not compile: ${invalid.message}`;
  }
  await read.mapAsync(GPUMapMode.READ);
  const flags = new Uint32Array(read.getMappedRange().slice(0));
  read.unmap();
  out.destroy();
  read.destroy();
  let all = 0;
  for (const f of flags) all |= f;
  if (all === 0) return null;
  const why = [all & 1 ? `a subgroup smaller than the adapter's smallest (${size})` : null, all & 2 ? 'lanes not in invocation order' : null, all & 4 ? 'a shuffle reading another invocation than lid ^ mask' : null];
  return `subgroups off: the device's subgroups do not lay out as the reductions assume (${why.filter(Boolean).join('; ')})`;
}
