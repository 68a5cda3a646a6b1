/// <reference types="@webgpu/types" />
/**
 * A KernelContext that compiles nothing and needs no arena: pipeline() hands back a placeholder and
 * counts the distinct WGSL sources (kernels of a kind share one: their shapes and offsets are
 * parameters, dispatch.ts), paramSlot() a placeholder slot holding the block. A plan recorded
 * through it says how many dispatches and pipelines a step has without a device, in milliseconds
 * (SwiftShader would take minutes to compile a B0 step's shaders).
 */
import type { Arena, ParamSlot } from '../arena';
import { KernelContext } from '../dispatch';

export class RecordingKernelContext extends KernelContext {
  private readonly sources = new Set<string>();
  private readonly placeholder = { label: 'not compiled' } as unknown as GPUComputePipeline;
  private readonly noBindGroup = { label: 'not created' } as unknown as GPUBindGroup;

  constructor(maxWorkgroupsPerDimension = 65535) {
    super({ limits: { maxComputeWorkgroupsPerDimension: maxWorkgroupsPerDimension } } as unknown as GPUDevice, null as unknown as Arena);
  }

  override get pipelineCount(): number {
    return this.sources.size;
  }

  override pipeline(code: string): GPUComputePipeline {
    this.sources.add(code);
    return this.placeholder;
  }

  override paramSlot(values: Uint32Array): ParamSlot {
    return { bindGroup: this.noBindGroup, offsets: Uint32Array.of(0), values: values.slice() };
  }
}
