/// <reference types="@webgpu/types" />
/**
 * A kernel launch prepared once: its pipeline, its workgroup counts and its parameter slot.
 *
 * Kernels of the same kind share one pipeline. What varies from one launch of a kind to the next
 * (tensor offsets, shapes, counts, per-layer scalars such as a dropout rate) is not written into
 * the WGSL: the kernel registers it in a KernelParams block and the WGSL reads it from a uniform
 * (`params[i].x`, bound at group 1). What stays in the source as a constant is only what shapes
 * the code itself: workgroup sizes, GEMM tiles, depthwise kernel sizes (loops the compiler
 * unrolls), activations, which epilogue runs. So a step plan compiles a few dozen pipelines
 * instead of one per dispatch (SwiftShader spends minutes compiling; a GPU driver seconds).
 *
 * Every kernel binds the whole arena as `mem` at group 0 (arena.ts), one bind group set once per
 * step. Its parameters sit in a 256-byte slot of the arena's parameter buffers, written when the
 * plan is recorded (never per step: per-step scalars such as the learning rate live in arena
 * tensors), bound with a dynamic offset per dispatch. A training step is a list of these, encoded
 * into one compute pass of one command buffer and submitted once (encodeAndSubmit).
 *
 * Kernels are functions `(ctx, ranges..., shape) => Dispatch` in kernels/*.ts. Their WGSL starts
 * with ARENA_BINDING and reads/writes `mem[T + i]`, T the tensor's element offset (`p.at(name, t)`
 * for a shared pipeline; `at(t)` bakes it into the source, for kernels that run once per plan).
 * A tensor a kernel may be handed as an activation is read and written through load/reader/
 * writer/loadAbsolute instead, which give `f32(mem16[T + i])` / `mem16[T + i] = f16(v)` for the
 * float16 tensors of a mixed-precision plan (the half arena, arena.ts): the kernel is the same, its
 * WGSL differs, and KernelContext.pipeline adds the f16 extension and the half arena's binding.
 */
import type { Arena, ParamSlot, TensorRange } from './arena';
import { pagedWgsl, SINGLE_PAGE, type ArenaPaging } from './arena-pages';

export interface Dispatch {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly workgroups: readonly [number, number, number];
  /** its parameter block: the group-1 bind group and dynamic offset it is bound with */
  readonly params: ParamSlot;
}

/** A dispatch's kind: its label without the sizes (`gemm 1568x1280x320 Aᵀ` → `gemm`), to count and profile by. */
export function kernelKind(label: string): string {
  return label.replace(/ [\d×x/→]+.*$/u, '').replace(/ \d.*$/, '');
}

/** u32 words in one parameter block: 256 bytes, the largest minUniformBufferOffsetAlignment WebGPU allows. */
export const PARAM_WORDS = 64;

/**
 * The first lines of every kernel: the arena, and the dispatch's parameter block (64 words as 16
 * vec4s: a uniform array's stride must be 16 bytes; f32 and i32 parameters are bitcast).
 */
const ARENA_F32_BINDING = '@group(0) @binding(0) var<storage, read_write> mem: array<f32>;';
export const ARENA_BINDING = `${ARENA_F32_BINDING}
@group(1) @binding(0) var<uniform> params: array<vec4<u32>, ${PARAM_WORDS / 4}>;`;

/** The half arena (arena.ts), declared by KernelContext.pipeline in a kernel whose WGSL uses `mem16`. */
const HALF_BINDING = '@group(0) @binding(1) var<storage, read_write> mem16: array<f16>;';

/**
 * WGSL reading element `index` of tensor `t` as an f32, its offset the parameter `name` of `p`:
 * `mem[T + index]`, or `f32(mem16[T + index])` for a float16 tensor (arena.ts half). Every kernel
 * that may be handed an activation reads and writes it through load/store, so that the same kernel
 * serves the fp32 plan and the mixed-precision one (a different pipeline each).
 */
export function load(p: KernelParams, name: string, t: TensorRange, index: string): string {
  return reader(p, name, t)(index);
}

/** `t` as a kernel's input, its offset registered in `p` now (as writer does for outputs): the function gives load's WGSL for `index`. */
export function reader(p: KernelParams, name: string, t: TensorRange): (index: string) => string {
  const at = p.at(name, t);
  return t.half ? (index) => `f32(mem16[${at} + ${index}])` : (index) => `mem[${at} + ${index}]`;
}

/** WGSL reading `t`'s buffer at `index`, an index that already holds t's offset (a row base computed once), as an f32. */
export function loadAbsolute(t: TensorRange, index: string): string {
  return t.half ? `f32(mem16[${index}])` : `mem[${index}]`;
}

/** The WGSL statement (without `;`) writing f32 `value` to element `index` of `t` (see load). */
export function store(p: KernelParams, name: string, t: TensorRange, index: string, value: string): string {
  return writer(p, name, t)(index, value);
}

/**
 * `t` as a kernel's output: its offset is registered in `p` now (so it takes the next parameter
 * word, before those of the value's operands), and the function gives the store statement of `value`
 * at `index` (see store).
 */
export function writer(p: KernelParams, name: string, t: TensorRange): (index: string, value: string) => string {
  const at = p.at(name, t);
  return t.half ? (index, value) => `mem16[${at} + ${index}] = f16(${value})` : (index, value) => `mem[${at} + ${index}] = ${value}`;
}

/** Builtins every kernel's entry point takes; FLAT_WORKGROUP then gives `wg`, the flat workgroup index. */
export const ENTRY_ARGS = '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32';
export const FLAT_WORKGROUP = 'let wg = wid.x + wid.y * nwg.x;';

/** A number as a WGSL f32 literal that parses to the same float32 (`1` would be an integer in WGSL). */
export function f32Literal(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`kernel constant ${value} is not a finite number`);
  return `${Math.fround(value).toPrecision(9)}f`;
}

type ParamKind = 'u32' | 'i32' | 'f32';

/**
 * The per-dispatch parameters of one kernel launch. Each call registers a named value and returns
 * the WGSL expression that reads it; asking for a name again returns the same expression (the
 * value must then be the same). Words are given out in the order of the calls, so a kernel whose
 * code does not depend on a value registers the same words whatever the value is: two launches
 * whose WGSL is the same text read their parameters from the same places, and share a pipeline.
 * Never register a value only when it has some value (e.g. only when it is not 0) without the code
 * differing too.
 */
export class KernelParams {
  private readonly words: number[] = [];
  /** offset expressions of the float16 tensors registered → their names */
  private readonly halves = new Map<string, string>();
  private readonly named = new Map<string, { kind: ParamKind; bits: number; expression: string }>();

  /** A u32 parameter: a whole number in [0, 2^32). */
  u(name: string, value: number): string {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`kernel parameter ${name} = ${value} is not a u32`);
    return this.add(name, 'u32', value >>> 0);
  }

  /** An i32 parameter: a whole number in [−2^31, 2^31). */
  i(name: string, value: number): string {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new Error(`kernel parameter ${name} = ${value} is not an i32`);
    return this.add(name, 'i32', value >>> 0);
  }

  /** An f32 parameter (rounded to float32 as a literal would be). */
  f(name: string, value: number): string {
    if (!Number.isFinite(value)) throw new Error(`kernel parameter ${name} = ${value} is not a finite number`);
    return this.add(name, 'f32', new Uint32Array(Float32Array.of(value).buffer)[0]);
  }

  /** A tensor's element offset in the arena (u32). */
  at(name: string, t: TensorRange): string {
    const expression = this.u(`${name}@`, t.at);
    if (t.half) this.halves.set(expression, t.name);
    return expression;
  }

  /**
   * Throws where `code` indexes a float16 tensor's offset into the f32 arena (`mem[T …`): a kernel
   * that was handed an activation of a mixed-precision plan and does not read it through load/store
   * would read and write the wrong buffer. KernelContext.dispatch checks every launch.
   */
  checkHalfAccess(label: string, code: string): void {
    for (const [expression, tensor] of this.halves) {
      if (code.includes(`mem[${expression} `) || code.includes(`mem[${expression}]`)) throw new Error(`${label}: reads or writes the float16 tensor ${tensor} as float32 (it must go through load/store)`);
    }
  }

  /** The block as written into the dispatch's slot. */
  values(): Uint32Array {
    return Uint32Array.from(this.words);
  }

  private add(name: string, kind: ParamKind, bits: number): string {
    const known = this.named.get(name);
    if (known) {
      if (known.kind !== kind || known.bits !== bits) throw new Error(`kernel parameter ${name} registered twice with different values`);
      return known.expression;
    }
    const index = this.words.length;
    if (index >= PARAM_WORDS) throw new Error(`kernel parameters: more than ${PARAM_WORDS} (adding ${name})`);
    this.words.push(bits);
    const word = `params[${index >> 2}].${'xyzw'[index & 3]}`;
    const expression = kind === 'u32' ? word : `bitcast<${kind}>(${word})`;
    this.named.set(name, { kind, bits, expression });
    return expression;
  }
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
 * `count`: a WGSL u32 expression (a KernelParams parameter), or a number baked into the source.
 */
export function perElementWgsl(workgroup: number, count: number | string, body: string): string {
  return `${ARENA_BINDING}
@compute @workgroup_size(${workgroup})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let i = wg * ${workgroup}u + lid;
  if (i >= ${typeof count === 'number' ? `${count}u` : count}) { return; }
${body}
}`;
}

/** A tensor's element offset as a WGSL u32 literal, baked into the source (its pipeline is then its own). */
export function at(t: TensorRange): string {
  if (t.half) throw new Error(`kernel: ${t.name} is a float16 tensor; its offset cannot be baked into an f32 kernel`);
  return `${t.at}u`;
}

/** A kernel's WGSL with the f16 extension and the half arena's binding when it uses them (none of it otherwise). */
export function withHalfArena(code: string): string {
  if (!code.includes('mem16[')) return code;
  const directives = code.match(/^(\s*enable [^;]+;\s*)*/)![0];
  return `enable f16;\n${directives}${code.slice(directives.length).replace(ARENA_BINDING, `${ARENA_BINDING}\n${HALF_BINDING}`)}`;
}

/** A kernel's WGSL for an arena's bindings: as withHalfArena where each kind is one buffer, else through its pages (arena-pages.ts). */
export function arenaWgsl(code: string, paging: ArenaPaging = SINGLE_PAGE): string {
  if (paging.f32Pages === 1 && paging.halfPages === 1) return withHalfArena(code);
  return pagedWgsl(code, paging, ARENA_F32_BINDING, HALF_BINDING);
}

export class KernelContext {
  /** the pipelines this context's dispatches use, by cache key */
  private readonly used = new Set<string>();
  readonly maxWorkgroupsPerDimension: number;
  constructor(
    readonly device: GPUDevice,
    readonly arena: Arena,
    /** the device's checked subgroup size for the reductions (kernels/lane-reduce.ts); 0: shared memory only */
    readonly subgroupSize = 0,
    /**
     * pipelines compiled before, shared with the other plans on the device (gpu-device.ts): a
     * pipeline serves every arena of the same bindings, since WebGPU matches bind groups to a
     * pipeline's layout by their entries, not by object
     */
    private readonly cache: Map<string, GPUComputePipeline> = new Map(),
  ) {
    this.maxWorkgroupsPerDimension = device.limits.maxComputeWorkgroupsPerDimension;
  }

  /** how many distinct pipelines this context's dispatches use */
  get pipelineCount(): number {
    return this.used.size;
  }

  pipeline(code: string, label: string): GPUComputePipeline {
    // the arena's bindings are part of the pipeline's layout: with or without the half arena, and their pages
    const key = `${this.arena.bindingsKey}\n${code}`;
    let found = this.cache.get(key);
    if (!found) {
      const module = this.device.createShaderModule({ label, code: arenaWgsl(code, this.arena.paging) });
      found = this.device.createComputePipeline({ label, layout: this.arena.pipelineLayout, compute: { module, entryPoint: 'main' } });
      this.cache.set(key, found);
    }
    this.used.add(key);
    return found;
  }

  /** The slot holding a dispatch's parameter block (the arena's parameter buffers). */
  paramSlot(values: Uint32Array): ParamSlot {
    return this.arena.paramSlot(values);
  }

  /**
   * `workgroups`: a flat count (split over x and y within the per-dimension limit; kernels use
   * FLAT_WORKGROUP) or x, y, z. `params`: what the WGSL reads from its uniform block (none: an
   * empty block, for kernels with everything in the source).
   */
  dispatch(label: string, code: string, workgroups: number | readonly [number, number, number], params?: KernelParams): Dispatch {
    params?.checkHalfAccess(label, code);
    return {
      label,
      pipeline: this.pipeline(code, label),
      workgroups: typeof workgroups === 'number' ? this.grid(workgroups) : workgroups,
      params: this.paramSlot(params ? params.values() : new Uint32Array(0)),
    };
  }

  grid(count: number): [number, number, number] {
    if (count <= this.maxWorkgroupsPerDimension) return [Math.max(1, count), 1, 1];
    const y = Math.ceil(count / this.maxWorkgroupsPerDimension);
    return [Math.ceil(count / y), y, 1];
  }
}

/**
 * One compute pass over `dispatches`: the arena's bind group set once, each dispatch's parameter
 * slot bound by its dynamic offset, the pipeline set only when it changes; one command buffer, one
 * submit. Parameter blocks recorded since the last submit are uploaded first (once per plan).
 */
export function encodeAndSubmit(arena: Arena, dispatches: readonly Dispatch[], label = 'step'): void {
  arena.flushParams();
  const encoder = arena.device.createCommandEncoder({ label });
  const pass = encoder.beginComputePass({ label });
  pass.setBindGroup(0, arena.bindGroup);
  let bound: GPUComputePipeline | null = null;
  let slot: ParamSlot | null = null;
  for (const d of dispatches) {
    if (d.pipeline !== bound) {
      pass.setPipeline(d.pipeline);
      bound = d.pipeline;
    }
    if (d.params !== slot) {
      pass.setBindGroup(1, d.params.bindGroup, d.params.offsets, 0, 1);
      slot = d.params;
    }
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
  }
  pass.end();
  arena.device.queue.submit([encoder.finish()]);
}
