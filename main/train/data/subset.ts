/**
 * A stratified subset of a split: the compound-scaling lab trains many small candidates on the same
 * few hundred images instead of the whole project. Each class keeps its share of the split
 * (largest remainders, at least one image of every class that has one), and which images are kept
 * is fixed by the subset's seed and the images' content hashes — not by the run's seed — so runs
 * with other training seeds still see the same images, on every machine.
 */
import { seedFrom } from './random';

export interface SubsetChoice {
  /** images to keep; a split with fewer keeps them all */
  readonly count: number;
  readonly seed: number;
}

/** Indices into `items` of the kept images, in their original order. */
export function stratifiedSubset(items: readonly { label: number; hash: string }[], choice: SubsetChoice): number[] {
  if (items.length <= choice.count) return items.map((_, i) => i);
  const byLabel = new Map<number, number[]>();
  items.forEach((item, i) => {
    const list = byLabel.get(item.label) ?? [];
    list.push(i);
    byLabel.set(item.label, list);
  });
  const quotas = classQuotas([...byLabel.entries()].map(([label, list]) => ({ label, size: list.length })), choice.count, items.length);
  const kept: number[] = [];
  for (const [label, list] of byLabel) {
    const ranked = [...list].sort((a, b) => seedFrom([choice.seed, items[a].hash]) - seedFrom([choice.seed, items[b].hash]) || a - b);
    kept.push(...ranked.slice(0, quotas.get(label)));
  }
  return kept.sort((a, b) => a - b);
}

/** Largest-remainder quotas summing to `count`, each class at least 1 (when count allows). */
function classQuotas(classes: { label: number; size: number }[], count: number, total: number): Map<number, number> {
  const quotas = new Map<number, number>();
  const floorOne = count >= classes.length;
  const exact = classes.map((c) => ({ ...c, share: (c.size * count) / total }));
  for (const c of exact) quotas.set(c.label, Math.min(c.size, Math.max(floorOne ? 1 : 0, Math.floor(c.share))));
  let left = count - [...quotas.values()].reduce((a, b) => a + b, 0);
  const byRemainder = [...exact].sort((a, b) => b.share - Math.floor(b.share) - (a.share - Math.floor(a.share)) || a.label - b.label);
  while (left > 0) {
    let moved = false;
    for (const c of byRemainder) {
      if (left === 0) break;
      if (quotas.get(c.label)! < c.size) {
        quotas.set(c.label, quotas.get(c.label)! + 1);
        left--;
        moved = true;
      }
    }
    if (!moved) break;
  }
  while (left < 0) {
    // the floor of one per class overshot: take back from the largest quotas
    const largest = [...quotas.entries()].sort((a, b) => b[1] - a[1])[0];
    quotas.set(largest[0], largest[1] - 1);
    left++;
  }
  return quotas;
}
