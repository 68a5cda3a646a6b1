/** The line a probe child prints its result on (probe-child.ts writes it, probe.ts reads it). */
export const PROBE_MARKER = 'EFFITUNE_PROBE ';

/** The backend a probe child probes (also its first argument, for `node --import tsx probe-child.ts <backend>` by hand). */
export const PROBE_BACKEND_ENV = 'EFFITUNE_PROBE_BACKEND';
