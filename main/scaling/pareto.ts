/**
 * The Pareto set of a search: the candidates no other candidate beats on both accuracy (higher is
 * better) and cost (FLOPs or measured time per image, lower is better). A candidate equal to
 * another on both stays in (neither dominates the other).
 */
export interface ParetoPoint {
  id: number;
  accuracy: number;
  cost: number;
}

export function dominates(a: ParetoPoint, b: ParetoPoint): boolean {
  return a.accuracy >= b.accuracy && a.cost <= b.cost && (a.accuracy > b.accuracy || a.cost < b.cost);
}

/** Ids of the non-dominated points, cheapest first. */
export function paretoFront(points: readonly ParetoPoint[]): number[] {
  return points
    .filter((p) => !points.some((q) => q.id !== p.id && dominates(q, p)))
    .sort((a, b) => a.cost - b.cost || b.accuracy - a.accuracy || a.id - b.id)
    .map((p) => p.id);
}
