/**
 * Contract of the compute-backend area: which TensorFlow.js backends load on this machine, why
 * the others do not and what to install (`effitune doctor`). Choosing a backend for a run is done
 * in the trainer's own process (main/backend/select-backend.ts), not through a call.
 */
import { z } from 'zod';
import { call } from './define';

/** The backend ladder, best first: the default is the first that loads and can do the job. */
export const BackendName = z.enum(['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendName>;

export const BackendPurpose = z.enum(['train', 'infer']);
export type BackendPurpose = z.infer<typeof BackendPurpose>;

export const BackendReport = z.object({
  name: BackendName,
  installed: z.boolean().describe('its npm package (and native parts) are present'),
  loads: z.boolean().describe('it started here and computed a small convolution correctly'),
  canTrain: z.boolean().describe('it has every gradient kernel training needs, and they gave correct results'),
  canInfer: z.boolean(),
  softwareGpu: z
    .boolean()
    .describe('a GPU API served by a CPU emulation (e.g. SwiftShader): it works, but slower than the CPU backends, so it is never the default'),
  reason: z.string().nullable().describe('why it does not load, cannot train or is not a default, in words; null when nothing is missing'),
  install: z.string().nullable().describe('what to install to make it work (or faster), in words; null when nothing helps'),
  device: z.string().nullable().describe('what it computes on, e.g. the GPU adapter or the CPU model'),
  gpuFeatures: z
    .array(z.string())
    .optional()
    .describe("webgpu: the optional features the Effitune engine can use that the adapter has (shader-f16 for precision mixed, subgroups); absent elsewhere or when the adapter lists none"),
  memoryBytes: z.number().nullable(),
  memorySource: z.string().nullable().describe('what memoryBytes measures'),
  env: z.record(z.string(), z.string()).describe('environment a process needs to use this backend beyond its own (e.g. a software Vulkan driver)'),
  probeSeconds: z.number(),
});
export type BackendReport = z.infer<typeof BackendReport>;

export const SystemInfo = z.object({
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpuModel: z.string(),
  cores: z.number().int(),
  memoryBytes: z.number(),
});
export type SystemInfo = z.infer<typeof SystemInfo>;

export const BackendProbe = z.object({
  system: SystemInfo,
  backends: z.array(BackendReport).describe('every backend of the ladder, best first'),
  defaults: z.object({ train: BackendName, infer: BackendName }).describe('what a run picks without --backend'),
  elapsedSeconds: z.number(),
});
export type BackendProbe = z.infer<typeof BackendProbe>;

export const backendCalls = {
  'backend.probe': call(z.object({}), BackendProbe, 'Which compute backends load here, why the others do not, and what to install'),
} as const;

export const backendEvents = {} as const;
