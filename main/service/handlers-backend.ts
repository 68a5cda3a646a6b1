/**
 * Service handlers of the backend calls (main/contract/calls-backend.ts). The probe runs each
 * backend that loads native code or a GPU driver in a child process, so a crashing driver can
 * never take the app down with it.
 */
import type { CallArgs, CallOutput } from '../contract/contract';
import type { backendCalls } from '../contract/calls-backend';
import { probeBackends } from '../backend/probe';

type BackendCallName = keyof typeof backendCalls;
type BackendHandlers = { [N in BackendCallName]: (args: CallArgs<N>) => Promise<CallOutput<N>> | CallOutput<N> };

export function backendHandlers(): BackendHandlers {
  return {
    'backend.probe': () => probeBackends(),
  };
}
