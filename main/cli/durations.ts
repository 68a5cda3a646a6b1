/**
 * Durations in words for the CLI's output: times per step or epoch as everywhere (the contract's
 * units.ts), and the short form of a progress bar's ETA.
 */

export { formatSeconds } from '../contract/units';

/** "45s", "3m07s", "1h05m": an ETA on a progress bar, short. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
