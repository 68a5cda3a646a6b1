/**
 * Contract of the inference area: every forward pass that trains nothing (evaluation, predict,
 * infer, assist, "try an image", head-mode features, the frozen trunk of top-N training) runs on
 * ONNX Runtime through one of its execution providers. This file names the providers, the report
 * `effitune doctor` prints for each, and what a prediction records about where it ran.
 */
import { z } from 'zod';
import { call } from './define';

/**
 * ONNX Runtime's execution providers, best first. `cpu` always loads; the GPU ones need their
 * platform (DirectML: Windows, CoreML: macOS), their libraries (CUDA) or a hardware adapter (WebGPU).
 */
export const ProviderName = z.enum(['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
export type ProviderName = z.infer<typeof ProviderName>;

/** Where inference runs: an ONNX Runtime provider, or TF.js when ONNX Runtime cannot load. */
export const InferenceEngineName = z.enum(['onnxruntime', 'tfjs']);
export type InferenceEngineName = z.infer<typeof InferenceEngineName>;

export const ProviderReport = z.object({
  name: ProviderName,
  loads: z.boolean().describe('a session with this provider was created here and computed a small graph correctly'),
  software: z.boolean().describe('it runs on a CPU emulation of a GPU (e.g. SwiftShader): correct, but never the default'),
  reason: z.string().nullable().describe('why it does not load or is not a default, in words; null when nothing is missing'),
  install: z.string().nullable().describe('what to install or change to make it work, in words; null when nothing helps'),
  device: z.string().nullable().describe('what it computes on (GPU adapter, CPU model and threads)'),
  env: z.record(z.string(), z.string()).describe('environment a process needs at its start to use this provider (e.g. a software Vulkan driver)'),
  probeSeconds: z.number(),
});
export type ProviderReport = z.infer<typeof ProviderReport>;

export const ProviderProbe = z.object({
  onnxruntime: z.string().nullable().describe("onnxruntime-node's version, null when it cannot load"),
  providers: z.array(ProviderReport).describe('every provider, best first'),
  default: ProviderName.nullable().describe('what inference picks without --provider; null when ONNX Runtime cannot load (TF.js is used)'),
  threads: z.number().int().describe('intra-op threads of the CPU provider: the physical cores'),
  elapsedSeconds: z.number(),
});
export type ProviderProbe = z.infer<typeof ProviderProbe>;

/** What ran a batch of predictions: stored with evaluations and printed by predict / infer. */
export const InferenceRecord = z.object({
  engine: InferenceEngineName,
  provider: z.string().describe('the ONNX Runtime provider (cpu, cuda, webgpu, ...) or the TF.js backend'),
  threads: z.number().int().nullable().describe('intra-op threads, for the CPU provider'),
});
export type InferenceRecord = z.infer<typeof InferenceRecord>;

export const inferenceCalls = {
  'inference.providers': call(z.object({}), ProviderProbe, 'Which ONNX Runtime execution providers load here, why the others do not, and what to install'),
} as const;

export const inferenceEvents = {} as const;
