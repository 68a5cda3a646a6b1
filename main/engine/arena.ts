/// <reference types="@webgpu/types" />
/**
 * One storage buffer per step plan, every tensor a range of it. Activations, gradients, optimizer
 * state and the flat parameter buffer are all laid out once, when the step is planned; nothing is
 * allocated while training.
 *
 * Kernels see the whole arena as one `array<f32>` binding and address tensors by element offsets
 * baked into their WGSL (dispatch.ts). That is what makes one bind group serve every dispatch of a
 * step, and it sidesteps WebGPU's rule that one buffer may not be bound read-only and writable in
 * the same dispatch (two ranges of one buffer would be). The arena must therefore fit one binding
 * (maxStorageBufferBindingSize: 2–4 GiB on desktop GPUs, 128 MiB at the spec's minimum).
 */

export interface TensorRange {
  readonly name: string;
  /** float32 elements */
  readonly length: number;
  /** offset in float32 elements from the start of the arena */
  readonly at: number;
}

/** Tensors start on 16-byte boundaries (vec4 loads). */
const ALIGN_ELEMENTS = 4;

/** A plan's tensors need more than one storage binding of the GPU holds: a smaller batch may fit. */
export class ArenaTooLarge extends Error {
  constructor(
    readonly tensor: string,
    readonly maxBytes: number,
  ) {
    super(`arena: ${tensor} does not fit: the plan needs more than ${maxBytes} bytes, the most one storage binding of this GPU can hold (a smaller batch or resolution fits)`);
    this.name = 'ArenaTooLarge';
  }
}

export class ArenaLayout {
  readonly ranges: TensorRange[] = [];
  private used = 0;
  constructor(readonly maxBytes: number) {}

  /** A float32 tensor of `length` elements. */
  add(name: string, length: number): TensorRange {
    if (!Number.isInteger(length) || length <= 0) throw new Error(`arena: tensor ${name} has ${length} elements`);
    const at = Math.ceil(this.used / ALIGN_ELEMENTS) * ALIGN_ELEMENTS;
    if ((at + length) * 4 > this.maxBytes) throw new ArenaTooLarge(name, this.maxBytes);
    this.used = at + length;
    const range: TensorRange = { name, length, at };
    this.ranges.push(range);
    return range;
  }

  get bytes(): number {
    return Math.max(16, Math.ceil(this.used / ALIGN_ELEMENTS) * ALIGN_ELEMENTS * 4);
  }
}

/** A part of `parent`: `length` elements from `offset` (elements) on. */
export function subRange(parent: TensorRange, name: string, offset: number, length: number): TensorRange {
  if (offset < 0 || offset + length > parent.length) throw new Error(`arena: ${name} (${offset}+${length}) lies outside ${parent.name} (${parent.length})`);
  return { name, length, at: parent.at + offset };
}

/** The arena's GPU buffer and the one bind group every kernel of a plan uses. */
export class Arena {
  readonly buffer: GPUBuffer;
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly pipelineLayout: GPUPipelineLayout;
  readonly bindGroup: GPUBindGroup;
  constructor(
    readonly device: GPUDevice,
    readonly layout: ArenaLayout,
  ) {
    this.buffer = device.createBuffer({ label: 'arena', size: layout.bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.bindGroupLayout = device.createBindGroupLayout({ entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }] });
    this.pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [this.bindGroupLayout] });
    this.bindGroup = device.createBindGroup({ label: 'arena', layout: this.bindGroupLayout, entries: [{ binding: 0, resource: { buffer: this.buffer } }] });
  }

  write(range: TensorRange, data: Float32Array): void {
    if (data.length !== range.length) throw new Error(`arena: ${range.name} holds ${range.length} values, got ${data.length}`);
    this.device.queue.writeBuffer(this.buffer, range.at * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Copy ranges out (one staging buffer, one map): for tests, checkpoints and the async metrics read. */
  async read(ranges: readonly TensorRange[]): Promise<Float32Array[]> {
    const total = ranges.reduce((n, r) => n + r.length, 0);
    const staging = this.device.createBuffer({ size: Math.max(16, total * 4), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const encoder = this.device.createCommandEncoder();
    let at = 0;
    for (const r of ranges) {
      encoder.copyBufferToBuffer(this.buffer, r.at * 4, staging, at * 4, r.length * 4);
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

  destroy(): void {
    this.buffer.destroy();
  }
}
