import { describe, expect, it } from 'vitest';
import type { TensorRange } from '../../../main/engine/arena';
import { LifetimeRecorder, placedAllocator, type TensorPlacement } from '../../../main/engine/plan/tensor-lifetimes';
import { randomArray } from '../../fixtures/engine-gpu';

/** Record `uses[k]` = the slots tensor k is used in (its `at` read), then place. */
function placeUses(lengths: readonly number[], uses: readonly (readonly number[])[]): TensorPlacement {
  const rec = new LifetimeRecorder();
  const tensors = lengths.map((n, k) => rec.transient(`t${k}`, n));
  const slots = Math.max(0, ...uses.flat()) + 1;
  for (let s = 0; s < slots; s++) {
    rec.nextSlot();
    uses.forEach((u, k) => u.includes(s) && tensors[k].at);
  }
  return rec.finish();
}

/** No two tensors alive in a common slot overlap in memory; every tensor lies inside the block, aligned. */
function expectSound(p: TensorPlacement): void {
  const { lives, offsets } = p;
  for (let i = 0; i < lives.length; i++) {
    expect(offsets[i] % 4).toBe(0);
    expect(offsets[i] + lives[i].length).toBeLessThanOrEqual(p.elements);
    for (let j = i + 1; j < lives.length; j++) {
      const together = lives[i].first <= lives[j].last && lives[j].first <= lives[i].last;
      const overlap = offsets[i] < offsets[j] + lives[j].length && offsets[j] < offsets[i] + lives[i].length;
      if (together && overlap) throw new Error(`${lives[i].name} and ${lives[j].name} are alive together and overlap`);
    }
  }
  expect(p.elements).toBeGreaterThanOrEqual(p.peakElements);
}

describe('tensor lifetimes: transient tensors share the arena by lifetime', () => {
  it('a tensor first used after another’s last use takes its memory; tensors used in the same slot never share', () => {
    // t0 in slots 0–1, t1 in 1–2 (together with t0 in slot 1), t2 in 3 (after both)
    const p = placeUses([100, 100, 100], [[0, 1], [1, 2], [3]]);
    expect(p.lives.map((l) => [l.first, l.last])).toEqual([[0, 1], [1, 2], [3, 3]]);
    expectSound(p);
    expect(p.elements).toBe(200);
    expect(p.unsharedElements).toBe(300);
    expect(p.peakElements).toBe(200);
    // t2 reuses memory of t0 or t1
    expect([p.offsets[0], p.offsets[1]]).toContain(p.offsets[2]);
  });

  it('a read outside every slot keeps the tensor alive for the whole step; a tensor never used still lies inside the block', () => {
    const rec = new LifetimeRecorder();
    const early = rec.transient('read before the recording', 8);
    const a = rec.transient('a', 8);
    const b = rec.transient('b', 8);
    const unused = rec.transient('never used', 6);
    void early.at;
    rec.nextSlot();
    void a.at;
    rec.nextSlot();
    void b.at;
    const p = rec.finish();
    expectSound(p);
    // a and b share; the early one overlaps neither
    expect(p.offsets[1]).toBe(p.offsets[2]);
    expect(p.offsets[0]).not.toBe(p.offsets[1]);
    expect(p.lives[3]).toMatchObject({ first: -1, last: -1 });
    expect(p.elements).toBe(16);
    expect(unused.length).toBe(6);
  });

  it('random lifetimes: the placement is sound and close to the least memory any placement needs', () => {
    for (let trial = 0; trial < 20; trial++) {
      const r = randomArray(300, trial + 1);
      const n = 100;
      const lengths = Array.from({ length: n }, (_, k) => 1 + Math.floor((r[k] + 1) * 500));
      const uses = Array.from({ length: n }, (_, k) => {
        const first = Math.floor((r[n + k] + 1) * 20);
        return [first, first + Math.floor((r[2 * n + k] + 1) * 5)];
      });
      const p = placeUses(lengths, uses);
      expectSound(p);
      expect(p.elements).toBeLessThan(p.unsharedElements);
      expect(p.elements).toBeLessThanOrEqual(1.5 * p.peakElements);
    }
  });

  it('the second layout must ask for the same tensors in the same order', () => {
    const p = placeUses([10, 20], [[0], [1]]);
    const block: TensorRange = { name: 'shared', at: 64, length: p.elements };
    const alloc = placedAllocator(p, block);
    expect(alloc('t0', 10)).toEqual({ name: 't0', length: 10, at: 64 + p.offsets[0] });
    expect(() => alloc('t2', 20)).toThrow(/asked for t2 \(20\) where the first had t1 \(20\)/);
  });
});
