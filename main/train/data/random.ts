/**
 * Seeded randomness of the data pipeline. Every random choice (epoch order, each sample's crop,
 * flip, rotation, colour) comes from a PRNG seeded by the run's seed plus where it is used, so a
 * run is repeatable and the result does not depend on which decode finishes first.
 */
import { mulberry32 } from '../../dataset/sample';

export type Random = () => number;

/** A PRNG whose stream is fixed by the parts, e.g. randomFor(seed, 'augment', epoch, position). */
export function randomFor(...parts: (number | string)[]): Random {
  return mulberry32(seedFrom(parts));
}

/** FNV-1a over the parts' text: independent streams for different parts, the same on every machine. */
export function seedFrom(parts: readonly (number | string)[]): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(parts.join('\u0000'), 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Fisher–Yates, in place. */
export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export function uniform(random: Random, low: number, high: number): number {
  return low + (high - low) * random();
}
