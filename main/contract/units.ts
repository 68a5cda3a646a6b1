/**
 * Durations in words, the same wherever they are shown: in the engine's own sentences (the
 * training estimate's explanation) and in the doors' output. Pure functions, no imports: every
 * room and the renderer may use them.
 */

/** 0.042 → "42 ms", 3.5 → "3.5 s", 75 → "1 min 15 s", 5400 → "1 h 30 min": a time per step or per epoch. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown';
  if (seconds < 1) return `${Math.max(1, Math.round(seconds * 1000))} ms`;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${s % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
