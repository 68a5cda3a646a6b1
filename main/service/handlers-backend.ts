/**
 * Service handlers of the backend calls (main/contract/calls-backend.ts). The probe runs each
 * backend that loads native code or a GPU driver in a child process, so a crashing driver can
 * never take the app down with it.
 */
import type { backendCalls } from '../contract/calls-backend';
import type { HandlersOf } from './handler';
import { probeBackends } from '../backend/probe';

export function backendHandlers(): HandlersOf<typeof backendCalls> {
  return {
    'backend.probe': () => probeBackends(),
  };
}
