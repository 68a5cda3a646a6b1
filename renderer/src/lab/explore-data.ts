/**
 * The φ explorer's arithmetic: which figure of an explore row a chart shows, and where B0..B7
 * sit on the family's φ axis — at the φ where the family has the same FLOPs (interpolated on a
 * log scale between the family's rows), so a chart of memory or time against φ reads as "this
 * family against the published network of the same compute".
 */
import type { ExploreRow } from '../../../main/contract/calls-scaling';

export type ExploreMetric = 'flops' | 'params' | 'trainingMemoryBytes' | 'secondsPerImage' | 'resolution' | 'depth' | 'width';

export const METRIC_WORDS: Record<ExploreMetric, string> = {
  flops: 'FLOPs',
  params: 'parameters',
  trainingMemoryBytes: 'training memory',
  secondsPerImage: 'time per image',
  resolution: 'resolution',
  depth: 'depth ×',
  width: 'width ×',
};

export function metricValue(row: ExploreRow, metric: ExploreMetric): number | null {
  const value = row[metric];
  return value === null || !Number.isFinite(value) || value <= 0 ? null : value;
}

/** The family φ at which the family's FLOPs equal `flops` (log-linear between rows, extended past the ends). */
export function phiAtFlops(family: ExploreRow[], flops: number): number | null {
  const rows = family.filter((r): r is ExploreRow & { phi: number } => r.phi !== null && r.flops > 0).sort((a, b) => a.phi - b.phi);
  if (rows.length < 2) return null;
  const at = (a: (typeof rows)[number], b: (typeof rows)[number]) => a.phi + ((Math.log(flops) - Math.log(a.flops)) / (Math.log(b.flops) - Math.log(a.flops))) * (b.phi - a.phi);
  for (let i = 0; i + 1 < rows.length; i++) {
    if (flops <= rows[i + 1].flops || i + 2 === rows.length) {
      const [a, b] = flops < rows[0].flops ? [rows[0], rows[1]] : [rows[i], rows[i + 1]];
      if (b.flops === a.flops) return a.phi;
      return at(a, b);
    }
  }
  return null;
}

/** The family's φ values rounded out to the slider's quarter steps. */
export function phiSpan(family: ExploreRow[], step: number): { min: number; max: number } {
  const phis = family.map((r) => r.phi).filter((p): p is number => p !== null);
  if (phis.length === 0) return { min: 0, max: 4 };
  return { min: Math.floor(Math.min(0, ...phis) / step) * step, max: Math.ceil(Math.max(1, ...phis) / step) * step };
}
