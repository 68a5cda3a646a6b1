/// <reference types="@webgpu/types" />
/**
 * A kernel launch prepared once: its pipeline (compiled once per distinct WGSL source; shapes and
 * tensor offsets are constants in the source, so no uniform buffer per launch) and its workgroup
 * counts. Every kernel binds the same thing, the whole arena as `mem` (arena.ts), so a step needs
 * one bind group, set once. A training step is a list of these, encoded into one compute pass of
 * one command buffer and submitted once (encodeAndSubmit).
 *
 * Kernels are functions `(ctx, ranges..., shape) => Dispatch` in kernels/*.ts. Their WGSL starts
 * with ARENA_BINDING and reads/writes `mem[T + i]`, T the tensor's element offset (`at(t)`).
 */
import type { Arena, TensorRange } from './arena';

export interface Dispatch {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly workgroups: readonly [number, number, number];
}

/** The first line of every kernel. */
export const ARENA_BINDING = '@group(0) @binding(0) var<storage, read_write> mem: array<f32>;';

/** Builtins every kernel's entry point takes; FLAT_WORKGROUP then gives `wg`, the flat workgroup index. */
export const ENTRY_ARGS = '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32';
export const FLAT_WORKGROUP = 'let wg = wid.x + wid.y * nwg.x;';

/** A number as a WGSL f32 literal that parses to the same float32 (`1` would be an integer in WGSL). */
export function f32Literal(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`kernel constant ${value} is not a finite number`);
  return `${Math.fround(value).toPrecision(9)}f`;
}

/**
 * Each tensor must hold what the kernel's shape says it does: every kernel addresses the one arena
 * by offset, so a short range would silently read or overwrite its neighbours.
 */
export function requireLengths(kernel: string, ...pairs: readonly (readonly [TensorRange, number])[]): void {
  for (const [t, want] of pairs) {
    if (t.length < want) throw new Error(`${kernel}: tensor ${t.name} holds ${t.length} values, the shape needs ${want}`);
  }
}

/**
 * The WGSL of a kernel with one thread per element: `i` in [0, count), workgroups of `workgroup`
 * threads on a flat grid (dispatch `ceil(count / workgroup)`); `body` is the rest of the entry point.
 */
export function perElementWgsl(workgroup: number, count: number, body: string): string {
  return `${ARENA_BINDING}
@compute @workgroup_size(${workgroup})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let i = wg * ${workgroup}u + lid;
  if (i >= ${count}u) { return; }
${body}
}`;
}

/** A tensor's element offset as a WGSL u32 literal. */
export function at(t: TensorRange): string {
  return `${t.at}u`;
}

export class KernelContext {
  private pipelines = new Map<string, GPUComputePipeline>();
  readonly maxWorkgroupsPerDimension: number;
  constructor(
    readonly device: GPUDevice,
    readonly arena: Arena,
  ) {
    this.maxWorkgroupsPerDimension = device.limits.maxComputeWorkgroupsPerDimension;
  }

  /** how many distinct pipelines were compiled */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  pipeline(code: string, label: string): GPUComputePipeline {
    let found = this.pipelines.get(code);
    if (!found) {
      const module = this.device.createShaderModule({ label, code });
      found = this.device.createComputePipeline({ label, layout: this.arena.pipelineLayout, compute: { module, entryPoint: 'main' } });
      this.pipelines.set(code, found);
    }
    return found;
  }

  /** `workgroups`: a flat count (split over x and y within the per-dimension limit; kernels use FLAT_WORKGROUP) or x, y, z. */
  dispatch(label: string, code: string, workgroups: number | readonly [number, number, number]): Dispatch {
    return { label, pipeline: this.pipeline(code, label), workgroups: typeof workgroups === 'number' ? this.grid(workgroups) : workgroups };
  }

  grid(count: number): [number, number, number] {
    if (count <= this.maxWorkgroupsPerDimension) return [Math.max(1, count), 1, 1];
    const y = Math.ceil(count / this.maxWorkgroupsPerDimension);
    return [Math.ceil(count / y), y, 1];
  }
}

/** One compute pass over `dispatches` with the arena's bind group set once; one command buffer, one submit. */
export function encodeAndSubmit(arena: Arena, dispatches: readonly Dispatch[], label = 'step'): void {
  const encoder = arena.device.createCommandEncoder({ label });
  const pass = encoder.beginComputePass({ label });
  pass.setBindGroup(0, arena.bindGroup);
  let bound: GPUComputePipeline | null = null;
  for (const d of dispatches) {
    if (d.pipeline !== bound) {
      pass.setPipeline(d.pipeline);
      bound = d.pipeline;
    }
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
  }
  pass.end();
  arena.device.queue.submit([encoder.finish()]);
}
