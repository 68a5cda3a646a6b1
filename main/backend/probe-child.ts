/**
 * `node --import tsx probe-child.ts <backend>`: probes one backend in a process of its own
 * (started by probe.ts, which names the backend in EFFITUNE_PROBE_BACKEND: the process launcher
 * passes no arguments), because loading a native TensorFlow library or a GPU driver can abort
 * the whole process, and then only this child dies. Prints one line, PROBE_MARKER + JSON, on
 * stdout; libraries may print other lines around it. Imports stay minimal (no contract, no zod):
 * the doctor waits for this process to start.
 */
import type { BackendName } from '../contract/calls-backend';
import { PROBE_BACKEND_ENV, PROBE_MARKER } from './probe-protocol';
import { probeHere } from './probe-here';
import { releaseBackend, TFJS_BACKEND_NAME } from './start-backend';

const name = (process.env[PROBE_BACKEND_ENV] || process.argv[2]) as BackendName;
if (!Object.hasOwn(TFJS_BACKEND_NAME, name)) {
  process.stderr.write(`probe-child: unknown backend "${name}"; known: ${Object.keys(TFJS_BACKEND_NAME).join(', ')}\n`);
  process.exit(2);
}
const result = await probeHere(name);
releaseBackend();
// Exit explicitly: a native library's threads must not keep the probe (and the doctor) waiting.
process.stdout.write(`${PROBE_MARKER}${JSON.stringify(result)}\n`, () => process.exit(0));
