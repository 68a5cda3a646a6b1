/**
 * Which ONNX Runtime execution provider the Evaluate tab predicts on: "auto" (the engine's best
 * on real hardware) or one the user forces, remembered in this browser. The providers come from
 * inference.providers, asked once per window (the probe starts child processes; providers do not
 * come and go while the app runs).
 */
import { useState } from 'react';
import type { ProviderName, ProviderProbe } from '../../../main/contract/calls-inference';
import { ProviderName as ProviderNames } from '../../../main/contract/calls-inference';
import { oncePerWindow } from '../api/once-per-window';

const STORAGE_KEY = 'effitune.inferenceProvider';

const useProviderProbe = oncePerWindow((client) => client.call('inference.providers', {}));

function storedProvider(): ProviderName | null {
  const value = localStorage.getItem(STORAGE_KEY);
  const parsed = ProviderNames.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export interface InferenceProviderChoice {
  probe: ProviderProbe | null;
  problem: string | null;
  /** null: automatic (the engine's default) */
  provider: ProviderName | null;
  setProvider(next: ProviderName | null): void;
}

export function useInferenceProvider(): InferenceProviderChoice {
  const { value: probe, problem } = useProviderProbe();
  const [provider, setProviderState] = useState<ProviderName | null>(storedProvider);
  const setProvider = (next: ProviderName | null) => {
    if (next === null) localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, next);
    setProviderState(next);
  };
  return { probe, problem, provider, setProvider };
}
