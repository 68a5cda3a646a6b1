import { describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import {
  customResolution,
  customVariant,
  flopsGrowthPerPhi,
  getVariant,
  NAMED_VARIANTS,
  planArchitecture,
  roundFilters,
  roundRepeats,
} from '../../main/model/variants';

/** docs/efficientnet-reference.md, "Variants" table. */
const REFERENCE = {
  b0: { stem: 32, head: 1280, repeats: [1, 2, 2, 3, 3, 4, 1], blocks: 16, res: 224, dropout: 0.2 },
  b1: { stem: 32, head: 1280, repeats: [2, 3, 3, 4, 4, 5, 2], blocks: 23, res: 240, dropout: 0.2 },
  b2: { stem: 32, head: 1408, repeats: [2, 3, 3, 4, 4, 5, 2], blocks: 23, res: 260, dropout: 0.3 },
  b3: { stem: 40, head: 1536, repeats: [2, 3, 3, 5, 5, 6, 2], blocks: 26, res: 300, dropout: 0.3 },
  b4: { stem: 48, head: 1792, repeats: [2, 4, 4, 6, 6, 8, 2], blocks: 32, res: 380, dropout: 0.4 },
  b5: { stem: 48, head: 2048, repeats: [3, 5, 5, 7, 7, 9, 3], blocks: 39, res: 456, dropout: 0.4 },
  b6: { stem: 56, head: 2304, repeats: [3, 6, 6, 8, 8, 11, 3], blocks: 45, res: 528, dropout: 0.5 },
  b7: { stem: 64, head: 2560, repeats: [4, 7, 7, 10, 10, 13, 4], blocks: 55, res: 600, dropout: 0.5 },
} as const;

function repeatsPerStage(id: string): number[] {
  const plan = planArchitecture(getVariant(id));
  const counts: number[] = [];
  for (const b of plan.blocks) counts[b.stage] = (counts[b.stage] ?? 0) + 1;
  return counts;
}

describe('V1 variants B0–B7', () => {
  for (const [id, ref] of Object.entries(REFERENCE)) {
    it(`${id}: stem/head filters, repeats, resolution and dropout match the reference`, () => {
      const plan = planArchitecture(getVariant(id));
      expect(plan.stemFilters).toBe(ref.stem);
      expect(plan.headFilters).toBe(ref.head);
      expect(repeatsPerStage(id)).toEqual(ref.repeats);
      expect(plan.blocks).toHaveLength(ref.blocks);
      expect(plan.variant.resolution).toBe(ref.res);
      expect(plan.variant.dropout).toBe(ref.dropout);
      expect(plan.variant.bnEpsilon).toBe(1e-3);
      expect(plan.variant.bnMomentum).toBe(0.99);
    });
  }

  it('B0 blocks follow the B0 table: SE of the block input, residual only at stride 1 with in == out', () => {
    const blocks = planArchitecture(getVariant('b0')).blocks;
    expect(blocks.map((b) => b.name)).toEqual([
      'block1a', 'block2a', 'block2b', 'block3a', 'block3b', 'block4a', 'block4b', 'block4c',
      'block5a', 'block5b', 'block5c', 'block6a', 'block6b', 'block6c', 'block6d', 'block7a',
    ]);
    const b2a = blocks[1];
    expect(b2a).toMatchObject({ filtersIn: 16, filtersOut: 24, filtersMid: 96, kernel: 3, stride: 2, seFilters: 4, residual: false, dropRate: 0 });
    const b2b = blocks[2];
    expect(b2b).toMatchObject({ filtersIn: 24, filtersOut: 24, filtersMid: 144, stride: 1, seFilters: 6, residual: true });
    expect(blocks[0]).toMatchObject({ expand: 1, filtersIn: 32, filtersMid: 32, seFilters: 8, residual: false });
    expect(blocks.filter((b) => b.residual)).toHaveLength(9);
  });

  it('stochastic depth grows linearly: block b of N drops with 0.2·b/N', () => {
    const blocks = planArchitecture(getVariant('b0')).blocks;
    expect(blocks[2].dropRate).toBeCloseTo((0.2 * 2) / 16, 12);
    expect(blocks[14].dropRate).toBeCloseTo((0.2 * 14) / 16, 12);
    expect(planArchitecture(getVariant('b0'), 0).blocks.every((b) => b.dropRate === 0)).toBe(true);
  });
});

describe('rounding rules', () => {
  it('round_filters: multiple of 8, at least 8, V1 adds 8 when rounding lost more than 10 %', () => {
    expect(roundFilters(32, 1.1, true)).toBe(32); // 35.2 → 32 (≥ 0.9·35.2)
    expect(roundFilters(1280, 1.1, true)).toBe(1408);
    expect(roundFilters(32, 1.2, true)).toBe(40); // 38.4 → 40
    expect(roundFilters(16, 0.5, true)).toBe(8);
    expect(roundFilters(20, 1, true)).toBe(24); // int(24) // 8 · 8 = 24
    expect(roundFilters(12, 1, true)).toBe(16);
    // 18.4 → 16 loses 13 %: V1 rounds up to 24, V2 keeps 16
    expect(roundFilters(16, 1.15, true)).toBe(24);
    expect(roundFilters(16, 1.15, false)).toBe(16);
  });

  it('round_repeats: ceil(depth · repeats)', () => {
    expect(roundRepeats(4, 3.1)).toBe(13);
    expect(roundRepeats(1, 1.1)).toBe(2);
    expect(roundRepeats(5, 1.2)).toBe(6);
    expect(roundRepeats(3, 0.2)).toBe(1);
  });
});

describe('EfficientNetV2', () => {
  it('V2-S: Fused-MBConv stages without SE, then MBConv with SE, BN momentum 0.9, [-1, 1] inputs', () => {
    const plan = planArchitecture(getVariant('v2-s'));
    expect(plan.stemFilters).toBe(24);
    expect(plan.headFilters).toBe(1280);
    expect(plan.blocks).toHaveLength(2 + 4 + 4 + 6 + 9 + 15);
    const stages = [...new Set(plan.blocks.map((b) => b.stage))].map((s) => plan.blocks.find((b) => b.stage === s)!);
    expect(stages.map((b) => [b.kind, b.expand, b.stride, b.filtersOut, b.seFilters > 0])).toEqual([
      ['fused', 1, 1, 24, false],
      ['fused', 4, 2, 48, false],
      ['fused', 4, 2, 64, false],
      ['mbconv', 4, 2, 128, true],
      ['mbconv', 6, 1, 160, true],
      ['mbconv', 6, 2, 256, true],
    ]);
    expect(plan.variant.bnMomentum).toBe(0.9);
    expect(plan.variant.preprocessing.divisor).toBe(128);
  });

  it('V2-B0..B3 scale the B0 table with (1.0,1.0,224) (1.0,1.1,240) (1.1,1.2,260) (1.2,1.4,300) and keep ImageNet normalisation', () => {
    const expected = { 'v2-b0': [1, 1, 224], 'v2-b1': [1, 1.1, 240], 'v2-b2': [1.1, 1.2, 260], 'v2-b3': [1.2, 1.4, 300] };
    for (const [id, [w, d, r]] of Object.entries(expected)) {
      const v = getVariant(id);
      expect([v.width, v.depth, v.resolution]).toEqual([w, d, r]);
      expect(v.preprocessing.divisor).toBe(255);
    }
    expect(planArchitecture(getVariant('v2-b0')).blocks).toHaveLength(21);
    // V2 round_filters has no 10 % round-up: B3's 16·1.2 = 19.2 → 16
    expect(planArchitecture(getVariant('v2-b3')).blocks[0].filtersOut).toBe(16);
  });

  it('S/M/L train at 384/480/480', () => {
    expect(['v2-s', 'v2-m', 'v2-l'].map((id) => getVariant(id).resolution)).toEqual([384, 480, 480]);
  });
});

describe('custom compound scaling φ', () => {
  it('φ = 0 is B0 exactly', () => {
    const custom = planArchitecture(customVariant({ phi: 0 }));
    const b0 = planArchitecture(getVariant('b0'));
    expect(custom.blocks).toEqual(b0.blocks);
    expect(custom.variant.resolution).toBe(224);
  });

  it('depth α^φ, width β^φ, resolution γ^φ·224 rounded to a multiple of 8 (at least 32)', () => {
    const v = customVariant({ phi: 1 });
    expect(v.depth).toBeCloseTo(1.2, 12);
    expect(v.width).toBeCloseTo(1.1, 12);
    expect(v.resolution).toBe(256); // 257.6 → 256
    expect(customResolution(-4, 1.15)).toBe(128); // 128.07
    expect(customResolution(-8, 1.15)).toBe(72); // 73.2
    expect(customResolution(-10, 1.15)).toBe(56); // 55.4
    expect(customResolution(-10, 1.5)).toBe(32); // 3.9 → clamped
    expect(customResolution(2, 1.15)).toBe(296); // 296.2
  });

  it('negative φ gives tiny networks: one block per stage, at least 8 filters', () => {
    const plan = planArchitecture(customVariant({ phi: -8 }));
    expect(plan.blocks).toHaveLength(7);
    expect(plan.blocks.every((b) => b.filtersOut >= 8 && b.filtersOut % 8 === 0)).toBe(true);
    expect(plan.variant.resolution).toBe(72);
  });

  it('custom α, β, γ and the α·β²·γ² ≈ 2 check', () => {
    const v = customVariant({ phi: 2, alpha: 1.4, beta: 1.2, gamma: 1.1 });
    expect(v.depth).toBeCloseTo(1.96, 12);
    expect(v.width).toBeCloseTo(1.44, 12);
    expect(v.id).toBe('phi=2,alpha=1.4,beta=1.2,gamma=1.1');
    expect(getVariant(v.id)).toEqual(v);
    expect(flopsGrowthPerPhi(1.2, 1.1, 1.15)).toBeCloseTo(1.92, 2);
  });

  it('ids round-trip through getVariant, with Keras names as aliases', () => {
    expect(getVariant('phi=-4')).toEqual(customVariant({ phi: -4 }));
    expect(getVariant('efficientnetb3').id).toBe('b3');
    expect(getVariant('EfficientNet-B3').id).toBe('b3');
    expect(getVariant('efficientnetv2-s').id).toBe('v2-s');
    expect(NAMED_VARIANTS.map((v) => v.id)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'v2-b0', 'v2-b1', 'v2-b2', 'v2-b3', 'v2-s', 'v2-m', 'v2-l']);
  });

  it('bad ids and values are ApiErrors that name the problem', () => {
    const error = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(ApiError);
        return (err as ApiError).message;
      }
      throw new Error('expected an ApiError');
    };
    expect(error(() => getVariant('b9'))).toMatch(/unknown model "b9".*b0, b1/);
    expect(error(() => getVariant('phi=abc'))).toMatch(/phi=abc/);
    expect(error(() => getVariant('phi=-3,delta=2'))).toMatch(/delta=2/);
    expect(error(() => customVariant({ phi: 11 }))).toMatch(/phi must be between -10 and 10/);
    expect(error(() => customVariant({ phi: 1, alpha: 0.5 }))).toMatch(/alpha must be between 1 and 3/);
  });
});
