/**
 * Service handlers of the inference calls (main/contract/calls-inference.ts). Each execution
 * provider is tried in a child process, so a GPU runtime that crashes while loading never takes
 * the app down; the answer is kept for the service's lifetime (providers do not appear while it runs).
 */
import type { inferenceCalls } from '../contract/calls-inference';
import type { HandlersOf } from './handler';
import { probeProviders } from '../inference/provider-probe';

export function inferenceHandlers(): HandlersOf<typeof inferenceCalls> {
  return {
    'inference.providers': () => probeProviders(),
  };
}
