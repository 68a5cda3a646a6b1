/// <reference types="@webgpu/types" />
/**
 * One arena per step plan, every tensor a range of it. Activations, gradients, optimizer
 * state and the flat parameter buffer are all laid out once, when the step is planned; nothing is
 * allocated while training.
 *
 * Kernels see the whole arena as one `array<f32>` binding (group 0) and address tensors by element
 * offsets (dispatch.ts). That is what makes one bind group serve every dispatch of a step, and it
 * sidesteps WebGPU's rule that one buffer may not be bound read-only and writable in the same
 * dispatch (two ranges of one buffer would be). An arena that fits one binding
 * (maxStorageBufferBindingSize: 2–4 GiB on desktop GPUs, 128 MiB at the spec's minimum) is one
 * buffer; a larger one is a few page buffers that its kernels address as one (arena-pages.ts).
 *
 * A mixed-precision plan (f16 activations, on adapters with shader-f16) keeps its float16 tensors
 * in a second buffer, the half arena, bound as `array<f16>` at binding 1 of the same bind group:
 * a buffer of its own, because two writable bindings of one dispatch may not overlap, and the
 * f32 and f16 tensors share memory by lifetime each in their own block.
 *
 * The arena also holds the plan's kernel parameters (offsets, shapes: what lets kernels of a kind
 * share a pipeline): one 256-byte slot per distinct parameter block in uniform buffers of
 * SLOTS_PER_BUFFER slots, bound at group 1 with a dynamic offset per dispatch. Slots are filled
 * while the plan is recorded and uploaded by the first submit after (flushParams); a block seen
 * before gets the slot it already has.
 */
import { MAX_F32_PAGES, MAX_HALF_PAGES, pageBinding, pageBytesFor, pagesOf, type ArenaPaging } from './arena-pages';

export interface TensorRange {
  readonly name: string;
  /** elements (float32, or float16 when `half`) */
  readonly length: number;
  /** offset in elements from the start of its buffer: the arena (float32), or the half arena (float16) when `half` */
  readonly at: number;
  /**
   * stored as float16 in the half arena (a second buffer, `mem16` in WGSL: the f16 activations of a
   * mixed-precision plan); kernels read and write it through dispatch.ts load/store
   */
  readonly half?: boolean;
}

/** Tensors start on 16-byte boundaries (vec4 loads). */
const ALIGN_ELEMENTS = 4;

/** A plan's tensors need more than the engine can hold on this GPU (arena-pages.ts): a smaller batch may fit. */
export class ArenaTooLarge extends Error {
  constructor(
    readonly tensor: string,
    readonly maxBytes: number,
  ) {
    super(`arena: ${tensor} does not fit: the plan needs more than ${maxBytes} bytes, the most the engine can hold on this GPU (a smaller batch or resolution fits)`);
    this.name = 'ArenaTooLarge';
  }
}

export class ArenaLayout {
  readonly ranges: TensorRange[] = [];
  private used = 0;
  /** elements per 16 bytes */
  private readonly align: number;
  /** `half`: a layout of the half arena, float16 elements */
  constructor(
    readonly maxBytes: number,
    readonly half = false,
  ) {
    this.align = half ? 2 * ALIGN_ELEMENTS : ALIGN_ELEMENTS;
  }

  get elementBytes(): number {
    return this.half ? 2 : 4;
  }

  /**
   * A tensor of `length` elements (float32; float16 in a half layout). Kernels address elements by
   * u32 offsets, so no layout holds more than 2^32 of them, whatever maxBytes allows (a plan counted
   * without a GPU has no binding limit).
   */
  add(name: string, length: number): TensorRange {
    if (!Number.isInteger(length) || length <= 0) throw new Error(`arena: tensor ${name} has ${length} elements`);
    const at = Math.ceil(this.used / this.align) * this.align;
    const most = Math.min(this.maxBytes, 2 ** 32 * this.elementBytes);
    if ((at + length) * this.elementBytes > most) throw new ArenaTooLarge(name, most);
    this.used = at + length;
    const range: TensorRange = this.half ? { name, length, at, half: true } : { name, length, at };
    this.ranges.push(range);
    return range;
  }

  get bytes(): number {
    return Math.max(16, Math.ceil(this.used / this.align) * this.align * this.elementBytes);
  }
}

/** A part of `parent`: `length` elements from `offset` (elements) on. */
export function subRange(parent: TensorRange, name: string, offset: number, length: number): TensorRange {
  if (offset < 0 || offset + length > parent.length) throw new Error(`arena: ${name} (${offset}+${length}) lies outside ${parent.name} (${parent.length})`);
  return parent.half ? { name, length, at: parent.at + offset, half: true } : { name, length, at: parent.at + offset };
}

/** Where a dispatch's parameter block lives: bind `bindGroup` at group 1 with dynamic offset offsets[0]. */
export interface ParamSlot {
  readonly bindGroup: GPUBindGroup;
  /** [byte offset of the slot in its buffer], ready for setBindGroup */
  readonly offsets: Uint32Array;
  /** the block's words (for tests and reports) */
  readonly values: Uint32Array;
}

/** Bytes a kernel sees of its slot (dispatch.ts PARAM_WORDS u32s). */
export const PARAM_BLOCK_BYTES = 256;
/** Slots per uniform buffer: 1,024 × 256 B = 256 KiB; a B0 training step needs under 800. */
const SLOTS_PER_BUFFER = 1024;

interface ParamBuffer {
  readonly buffer: GPUBuffer;
  readonly bindGroup: GPUBindGroup;
  /** what the GPU buffer is to hold */
  readonly words: Uint32Array;
  used: number;
  /** slots [dirtyFrom, used) are not uploaded yet */
  dirtyFrom: number;
}

/** A run of a range's elements on one page: page k, from element `offset` of the page, elements [start, start + length) of the range. */
interface PageSegment {
  readonly page: number;
  readonly offset: number;
  readonly start: number;
  readonly length: number;
}

function segmentsOf(at: number, length: number, pageElements: number): PageSegment[] {
  const out: PageSegment[] = [];
  for (let start = 0; start < length; ) {
    const element = at + start;
    const page = Math.floor(element / pageElements);
    const offset = element - page * pageElements;
    const n = Math.min(length - start, pageElements - offset);
    out.push({ page, offset, start, length: n });
    start += n;
  }
  return out;
}

/** The GPU buffers of one arena kind: one, or pages (arena-pages.ts). */
function createPages(device: GPUDevice, label: string, bytes: number, pages: number, pageBytes: number): GPUBuffer[] {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  if (pages === 1) return [device.createBuffer({ label, size: bytes, usage })];
  return Array.from({ length: pages }, (_, k) => device.createBuffer({ label: `${label} page ${k}`, size: Math.max(16, Math.ceil(Math.min(pageBytes, bytes - k * pageBytes) / 16) * 16), usage }));
}

/**
 * The arena's GPU buffers (and the half arena's, when the plan has f16 tensors), the one bind group
 * every kernel of a plan uses, and the kernels' parameter slots. An arena kind larger than one
 * storage binding (`bindingBytes`) is paged (arena-pages.ts): buffers bound side by side, which its
 * kernels address as one.
 */
export class Arena {
  /** the float32 arena's buffers (one, or its pages) */
  readonly buffers: GPUBuffer[];
  /** the float16 tensors' buffers (binding 1 of group 0, `mem16`, and its pages), empty when the plan has none */
  readonly halfBuffers: GPUBuffer[];
  readonly paging: ArenaPaging;
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly paramsLayout: GPUBindGroupLayout;
  readonly pipelineLayout: GPUPipelineLayout;
  readonly bindGroup: GPUBindGroup;
  /** bytes between slots: the block rounded up to the device's minUniformBufferOffsetAlignment */
  private readonly slotStride: number;
  private readonly paramBuffers: ParamBuffer[] = [];
  private readonly slots = new Map<string, ParamSlot>();
  constructor(
    readonly device: GPUDevice,
    readonly layout: ArenaLayout,
    readonly halfLayout: ArenaLayout | null = null,
    /** the most one storage binding holds; an arena kind above it is paged, by the largest power of two within it (default: never) */
    bindingBytes = Infinity,
  ) {
    const pageBytes = pageBytesFor(bindingBytes);
    const f32Pages = pagesOf(layout.bytes, bindingBytes, pageBytes);
    const halfPages = halfLayout ? pagesOf(halfLayout.bytes, bindingBytes, pageBytes) : 1;
    if (f32Pages > MAX_F32_PAGES || halfPages > MAX_HALF_PAGES) throw new ArenaTooLarge(f32Pages > MAX_F32_PAGES ? 'the float32 arena' : 'the float16 arena', (f32Pages > MAX_F32_PAGES ? MAX_F32_PAGES : MAX_HALF_PAGES) * pageBytes);
    this.paging = { f32Pages, f32Shift: f32Pages > 1 ? Math.log2(pageBytes / 4) : 32, halfPages, halfShift: halfPages > 1 ? Math.log2(pageBytes / 2) : 32 };
    this.buffers = createPages(device, 'arena', layout.bytes, f32Pages, pageBytes);
    this.halfBuffers = halfLayout ? createPages(device, 'half arena', halfLayout.bytes, halfPages, pageBytes) : [];
    const bound = [...this.buffers.map((buffer, k) => ({ buffer, binding: pageBinding(this.paging, false, k) })), ...this.halfBuffers.map((buffer, k) => ({ buffer, binding: pageBinding(this.paging, true, k) }))];
    this.bindGroupLayout = device.createBindGroupLayout({ entries: bound.map(({ binding }) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' as const } })) });
    this.paramsLayout = device.createBindGroupLayout({
      label: 'kernel parameters',
      entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: PARAM_BLOCK_BYTES } }],
    });
    this.pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [this.bindGroupLayout, this.paramsLayout] });
    this.bindGroup = device.createBindGroup({ label: 'arena', layout: this.bindGroupLayout, entries: bound.map(({ buffer, binding }) => ({ binding, resource: { buffer } })) });
    const alignment = device.limits.minUniformBufferOffsetAlignment;
    this.slotStride = Math.ceil(PARAM_BLOCK_BYTES / alignment) * alignment;
  }

  /** whether the plan has float16 tensors (a half arena) */
  get hasHalf(): boolean {
    return this.halfBuffers.length > 0;
  }

  /** what makes a pipeline's bindings this arena's: with or without the half arena, and the pages of each */
  get bindingsKey(): string {
    const p = this.paging;
    return `${this.hasHalf ? 'f32+f16' : 'f32'} ${p.f32Pages}/${p.f32Shift} ${p.halfPages}/${p.halfShift}`;
  }

  /** float32 elements per page (the whole arena when it is one buffer) */
  private get pageElements(): number {
    return this.paging.f32Pages > 1 ? 2 ** this.paging.f32Shift : Number.MAX_SAFE_INTEGER;
  }

  /** The slot of a parameter block (at most PARAM_BLOCK_BYTES): the same slot for the same words. */
  paramSlot(values: Uint32Array): ParamSlot {
    if (values.length * 4 > PARAM_BLOCK_BYTES) throw new Error(`arena: a kernel parameter block of ${values.length} words is more than a ${PARAM_BLOCK_BYTES}-byte slot`);
    const key = values.join(',');
    const known = this.slots.get(key);
    if (known) return known;
    let target = this.paramBuffers[this.paramBuffers.length - 1];
    if (!target || target.used === SLOTS_PER_BUFFER) {
      const buffer = this.device.createBuffer({ label: `kernel parameters ${this.paramBuffers.length}`, size: SLOTS_PER_BUFFER * this.slotStride, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      const bindGroup = this.device.createBindGroup({ label: buffer.label, layout: this.paramsLayout, entries: [{ binding: 0, resource: { buffer, offset: 0, size: PARAM_BLOCK_BYTES } }] });
      target = { buffer, bindGroup, words: new Uint32Array((SLOTS_PER_BUFFER * this.slotStride) / 4), used: 0, dirtyFrom: 0 };
      this.paramBuffers.push(target);
    }
    const offset = target.used * this.slotStride;
    target.words.set(values, offset / 4);
    target.used++;
    const slot: ParamSlot = { bindGroup: target.bindGroup, offsets: Uint32Array.of(offset), values: values.slice() };
    this.slots.set(key, slot);
    return slot;
  }

  /** Upload the parameter slots filled since the last call (one write per buffer; nothing when none were). */
  flushParams(): void {
    for (const p of this.paramBuffers) {
      if (p.dirtyFrom === p.used) continue;
      const from = (p.dirtyFrom * this.slotStride) / 4;
      const to = (p.used * this.slotStride) / 4;
      this.device.queue.writeBuffer(p.buffer, from * 4, p.words.buffer, from * 4, (to - from) * 4);
      p.dirtyFrom = p.used;
    }
  }

  /** the GPU memory of the plan's tensors: the arena and the half arena */
  get bytes(): number {
    return this.layout.bytes + (this.halfLayout?.bytes ?? 0);
  }

  /** distinct parameter blocks (slots) of the plan */
  get paramSlotCount(): number {
    return this.slots.size;
  }

  /**
   * Float32 tensors only: a half arena holds transient activations, first written within the step
   * and never read by the host.
   */
  write(range: TensorRange, data: Float32Array): void {
    if (range.half) throw new Error(`arena: ${range.name} is a float16 activation; the host neither writes nor reads those`);
    if (data.length !== range.length) throw new Error(`arena: ${range.name} holds ${range.length} values, got ${data.length}`);
    for (const s of segmentsOf(range.at, range.length, this.pageElements)) this.device.queue.writeBuffer(this.buffers[s.page], s.offset * 4, data.buffer, data.byteOffset + s.start * 4, s.length * 4);
  }

  /** Copy float32 ranges out (one staging buffer, one map): for tests, checkpoints and the async metrics read. */
  async read(ranges: readonly TensorRange[]): Promise<Float32Array[]> {
    for (const r of ranges) if (r.half) throw new Error(`arena: ${r.name} is a float16 activation; the host neither writes nor reads those`);
    const total = ranges.reduce((n, r) => n + r.length, 0);
    const staging = this.device.createBuffer({ size: Math.max(16, total * 4), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const encoder = this.device.createCommandEncoder();
    let at = 0;
    for (const r of ranges) {
      for (const s of segmentsOf(r.at, r.length, this.pageElements)) encoder.copyBufferToBuffer(this.buffers[s.page], s.offset * 4, staging, (at + s.start) * 4, s.length * 4);
      at += r.length;
    }
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    const out: Float32Array[] = [];
    at = 0;
    for (const r of ranges) {
      out.push(all.slice(at, at + r.length));
      at += r.length;
    }
    return out;
  }

  /**
   * Copy float32 ranges of another arena on the same device into ranges of this one, GPU to GPU
   * (one command buffer, ordered after what was submitted before): [from, to] pairs of equal length.
   */
  copyFrom(source: Arena, pairs: readonly (readonly [TensorRange, TensorRange])[]): void {
    const encoder = this.device.createCommandEncoder({ label: 'copy between arenas' });
    for (const [from, to] of pairs) {
      if (from.half || to.half) throw new Error(`arena: ${from.name} → ${to.name}: float16 activations are not copied between arenas`);
      if (from.length !== to.length) throw new Error(`arena: ${from.name} holds ${from.length} values, ${to.name} ${to.length}`);
      // split where either side crosses a page
      for (const a of segmentsOf(from.at, from.length, source.pageElements)) {
        for (const b of segmentsOf(to.at + a.start, a.length, this.pageElements)) {
          encoder.copyBufferToBuffer(source.buffers[a.page], (a.offset + b.start) * 4, this.buffers[b.page], b.offset * 4, b.length * 4);
        }
      }
    }
    this.device.queue.submit([encoder.finish()]);
  }

  destroy(): void {
    for (const b of [...this.buffers, ...this.halfBuffers]) b.destroy();
    for (const p of this.paramBuffers) p.buffer.destroy();
  }
}

