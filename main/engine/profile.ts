/// <reference types="@webgpu/types" />
/**
 * Where a step's GPU time goes: every dispatch of a plan in a compute pass of its own, with GPU
 * timestamps at the pass's beginning and end (the `timestamp-query` feature, requested by
 * openEngineDevice({ timestamps: true })), summed by kernel kind. One pass per dispatch lets no
 * dispatch overlap the next and adds a pass boundary to each, so the total is an upper bound of what
 * the step's single pass takes; the shares say which kernels are worth work. The profile runs the
 * dispatches once, as a step would (a training plan's weights change: profile after measuring).
 */
import type { Arena } from './arena';
import { kernelKind, type Dispatch } from './dispatch';

export interface KernelTime {
  readonly kernel: string;
  readonly dispatches: number;
  readonly ms: number;
  /** of the profile's total */
  readonly share: number;
}

export interface StepProfile {
  readonly dispatches: number;
  /** sum of the dispatches' own pass times */
  readonly totalMs: number;
  /** by kernel kind, the most time first */
  readonly kernels: readonly KernelTime[];
}

/** Timestamps per query set: WebGPU allows 4,096 queries in one set, two per dispatch. */
const DISPATCHES_PER_SET = 2048;

export async function profileDispatches(arena: Arena, dispatches: readonly Dispatch[]): Promise<StepProfile> {
  const device = arena.device;
  if (!device.features.has('timestamp-query')) throw new Error('engine profile: the device was opened without the timestamp-query feature (openEngineDevice({ timestamps: true }); the adapter may not have it)');
  arena.flushParams();
  const ns: number[] = [];
  for (let first = 0; first < dispatches.length; first += DISPATCHES_PER_SET) {
    const part = dispatches.slice(first, first + DISPATCHES_PER_SET);
    const count = 2 * part.length;
    const querySet = device.createQuerySet({ type: 'timestamp', count });
    const resolved = device.createBuffer({ size: 8 * count, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const readable = device.createBuffer({ size: 8 * count, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder({ label: 'profile' });
    part.forEach((d, i) => {
      const pass = encoder.beginComputePass({ label: d.label, timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      pass.setBindGroup(0, arena.bindGroup);
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(1, d.params.bindGroup, d.params.offsets, 0, 1);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      pass.end();
    });
    encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, readable, 0, 8 * count);
    device.queue.submit([encoder.finish()]);
    await readable.mapAsync(GPUMapMode.READ);
    const stamps = new BigUint64Array(readable.getMappedRange().slice(0));
    readable.unmap();
    for (let i = 0; i < part.length; i++) ns.push(stamps[2 * i + 1] > stamps[2 * i] ? Number(stamps[2 * i + 1] - stamps[2 * i]) : 0);
    querySet.destroy();
    resolved.destroy();
    readable.destroy();
  }
  const byKind = new Map<string, { dispatches: number; ns: number }>();
  dispatches.forEach((d, i) => {
    const kind = kernelKind(d.label);
    const k = byKind.get(kind) ?? { dispatches: 0, ns: 0 };
    k.dispatches += 1;
    k.ns += ns[i];
    byKind.set(kind, k);
  });
  const totalNs = ns.reduce((a, b) => a + b, 0);
  const kernels = [...byKind]
    .map(([kernel, k]) => ({ kernel, dispatches: k.dispatches, ms: k.ns / 1e6, share: totalNs > 0 ? k.ns / totalNs : 0 }))
    .sort((a, b) => b.ms - a.ms);
  return { dispatches: dispatches.length, totalMs: totalNs / 1e6, kernels };
}
