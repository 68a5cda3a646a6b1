/**
 * The φ explorer: a family's depth, width, resolution, parameters, FLOPs, training memory and time
 * at several φ, beside B0..B7 as published. By default the φ are where the family matches each
 * published variant's FLOPs, so the rows line up. Time per image comes from a search's measured
 * candidates, fitted linearly by FLOPs (same machine, same backend); without one there is none.
 */
import type { CallArgs, CallOutput } from '../contract/contract';
import type { ExploreRow } from '../contract/calls-scaling';
import { describeVariant } from '../model/estimates';
import { customVariant, NAMED_VARIANTS, type VariantSpec } from '../model/variants';
import type { Database } from '../project/database';
import { listCandidates } from './search-store';

type Fit = { a: number; b: number; points: number } | null;

export function explore(args: CallArgs<'scale.explore'>, db: Database | null): CallOutput<'scale.explore'> {
  const { alpha, beta, gamma, basePhi, batch } = args;
  const family = (phi: number) => customVariant({ phi, alpha, beta, gamma, basePhi });
  const published = NAMED_VARIANTS.filter((v) => v.family === 'v1');
  const fit = db && args.searchId !== undefined ? speedFit(db, args.searchId) : null;
  const phis = args.phis ?? defaultPhis(published, family, batch);
  const row = (label: string, v: VariantSpec, phi: number | null): ExploreRow => {
    const f = describeVariant(v, batch);
    return {
      label,
      model: v.id,
      phi,
      depth: v.depth,
      width: v.width,
      resolution: f.resolution,
      blocks: f.blocks,
      params: f.params,
      flops: f.flops,
      trainingMemoryBytes: f.trainingMemoryBytes,
      secondsPerImage: fit ? Math.max(0, fit.a + fit.b * f.flops) : null,
    };
  };
  return {
    family: phis.map((phi) => row(`φ ${phi}`, family(phi), phi)),
    variants: published.map((v) => row(v.name, v, null)),
    timeBasis: fit
      ? `training time per image fitted linearly by FLOPs to the ${fit.points} candidates measured in search ${args.searchId} (this machine, its backend); far beyond their FLOPs it is a rough guide`
      : 'no time: give the search whose measured speeds to use (project and searchId)',
  };
}

/** φ of the family at each published variant's FLOPs (bisection: FLOPs grow with φ), plus 0 and 1. */
function defaultPhis(published: readonly VariantSpec[], family: (phi: number) => VariantSpec, batch: number): number[] {
  const flopsAt = (phi: number) => describeVariant(family(phi), batch).flops;
  const phis = new Set<number>([0, 1]);
  for (const v of published) {
    const target = describeVariant(v, batch).flops;
    let low = -10;
    let high = 10;
    if (flopsAt(high) < target || flopsAt(low) > target) continue;
    for (let i = 0; i < 30; i++) {
      const mid = (low + high) / 2;
      if (flopsAt(mid) < target) low = mid;
      else high = mid;
    }
    phis.add(Math.round(((low + high) / 2) * 100) / 100);
  }
  return [...phis].sort((a, b) => a - b);
}

/** Least squares of seconds per image on FLOPs over a search's measured candidates. */
function speedFit(db: Database, searchId: number): Fit {
  const points = listCandidates(db, searchId).filter((c) => c.secondsPerImage !== null).map((c) => ({ x: c.flops, y: c.secondsPerImage! }));
  if (points.length === 0) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (n < 2 || sxx === 0) return { a: 0, b: my / mx, points: n };
  const b = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  // a negative slope is noise between near-equal candidates: fall back to proportional
  return b > 0 ? { a: my - b * mx, b, points: n } : { a: 0, b: my / mx, points: n };
}
