/**
 * Making one backend of the ladder the active TensorFlow.js backend of this process, for code
 * that already knows which one it wants (tests, benchmarks, inference with --backend).
 *
 * This loads in-process and trusts the backend not to crash the process: callers that do not
 * know yet whether a backend works here go through selectBackend (select-backend.ts), which
 * probes in child processes first.
 */
import { ApiError } from '../contract/contract';
import type { BackendName } from '../contract/calls-backend';
import { startBackend, type ActiveBackend } from './start-backend';

export type { BackendName, ActiveBackend };
export { releaseBackend } from './start-backend';

/** Make `name` the active backend; throws ApiError saying why when it cannot start here. */
export async function useBackend(name: BackendName): Promise<ActiveBackend> {
  try {
    return await startBackend(name);
  } catch (err) {
    throw new ApiError('internal', `the ${name} backend does not start here: ${(err as Error).message}`);
  }
}
