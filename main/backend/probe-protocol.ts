/** The line a probe child prints its result on (probe-child.ts writes it, probe.ts reads it). */
export const PROBE_MARKER = 'EFFITUNE_PROBE ';
