/**
 * The backend probe (backend.probe), asked once per window: it starts child processes, and
 * backends do not come and go while the app runs. The Train tab and the Lab share the answer.
 */
import type { BackendProbe } from '../../../main/contract/calls-backend';
import { oncePerWindow } from './once-per-window';

/** The probe's answer (value: null until it comes) and, if it failed, why in words. */
export const useBackendProbe = oncePerWindow((client) => client.call('backend.probe', {}));

/** Why mixed precision would fail here: in full (naming the GPU) and short (for an option's label). */
export interface MixedPrecisionProblem {
  readonly why: string;
  readonly short: string;
}

/**
 * Why mixed precision would fail here, or null where it can run or the probe has not said. It
 * keeps activations in float16 on the Effitune WebGPU engine, so it needs WebGPU that trains and an
 * adapter with shader-f16 (a loading adapter without the feature list has none).
 */
export function mixedPrecisionProblem(probe: BackendProbe | null): MixedPrecisionProblem | null {
  const webgpu = probe?.backends.find((b) => b.name === 'webgpu');
  if (!webgpu) return null;
  if (!webgpu.loads || !webgpu.canTrain) return { why: 'WebGPU cannot train here', short: 'WebGPU cannot train here' };
  if ((webgpu.gpuFeatures ?? []).includes('shader-f16')) return null;
  return { why: `this GPU (${webgpu.device?.split(';')[0] ?? 'the WebGPU adapter'}) has no shader-f16`, short: 'this GPU has no shader-f16' };
}
