/**
 * Which ONNX Runtime execution provider the Evaluate tab predicts on: "auto" (the engine's best
 * on real hardware) or one the user forces, remembered in this browser. The providers come from
 * inference.providers, asked once per window (the probe starts child processes; providers do not
 * come and go while the app runs).
 */
import { useEffect, useState } from 'react';
import type { Client } from '../../../main/contract/client';
import type { ProviderName, ProviderProbe } from '../../../main/contract/calls-inference';
import { ProviderName as ProviderNames } from '../../../main/contract/calls-inference';
import { errorMessage, useClient } from '../api/client-context';

const STORAGE_KEY = 'effitune.inferenceProvider';

let probeOnce: Promise<ProviderProbe> | null = null;
function probeProviders(client: Client): Promise<ProviderProbe> {
  probeOnce ??= client.call('inference.providers', {}).catch((err) => {
    probeOnce = null;
    throw err;
  });
  return probeOnce;
}

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
  const client = useClient();
  const [probe, setProbe] = useState<ProviderProbe | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [provider, setProviderState] = useState<ProviderName | null>(storedProvider);
  useEffect(() => {
    let current = true;
    probeProviders(client).then(
      (p) => current && setProbe(p),
      (err) => current && setProblem(errorMessage(err)),
    );
    return () => {
      current = false;
    };
  }, [client]);
  const setProvider = (next: ProviderName | null) => {
    if (next === null) localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, next);
    setProviderState(next);
  };
  return { probe, problem, provider, setProvider };
}
