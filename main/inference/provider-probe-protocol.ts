/** What a provider probe child prints (provider-probe-child.ts) and its parent reads (provider-probe.ts). */
export const PROVIDER_PROBE_MARKER = 'EFFITUNE_PROVIDER_PROBE ';
export const PROVIDER_PROBE_ENV = 'EFFITUNE_PROBE_PROVIDER';

export interface ChildProbe {
  loads: boolean;
  software: boolean;
  device: string | null;
  error: string | null;
}
