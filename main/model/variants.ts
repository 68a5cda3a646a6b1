/**
 * EfficientNet architectures as data: the base block tables of V1 (B0) and V2, the scaling
 * coefficients of every published variant, a custom compound-scaling φ variant, and the
 * resolved per-block plan that both the builder and the estimates read.
 *
 * Sources: Keras applications efficientnet.py / efficientnet_v2.py (tables, rounding rules, layer
 * names) and ../shared/reference/efficientnet.md (published figures).
 */
import { ApiError } from '../contract/contract';

export type BlockKind = 'mbconv' | 'fused';

/** One stage of a base block table, before width/depth scaling. */
export interface StageSpec {
  readonly kind: BlockKind;
  readonly expand: number;
  readonly kernel: number;
  readonly stride: number;
  readonly filtersIn: number;
  readonly filtersOut: number;
  readonly repeats: number;
  /** squeeze-and-excitation ratio of the block's INPUT filters; 0 = no SE */
  readonly se: number;
}

/** Per-channel affine map applied to RGB pixels 0..255 inside the model: y = x·scale + offset. */
export interface Preprocessing {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** pixel divisor before (x/divisor - mean)/std: 255 for ImageNet mean/std, 128 for V2's x/128 - 1 */
  readonly divisor: number;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
export const IMAGENET_PREPROCESSING: Preprocessing = { mean: IMAGENET_MEAN, std: IMAGENET_STD, divisor: 255 };
/** EfficientNetV2-S/M/L in Keras: Rescaling(1/128, offset -1) = (x/128 - 1)/1. */
export const MINUS_ONE_TO_ONE_PREPROCESSING: Preprocessing = { mean: [1, 1, 1], std: [1, 1, 1], divisor: 128 };

export interface CompoundScaling {
  readonly phi: number;
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

export interface VariantSpec {
  /** stable id used by the CLI and stored with runs: b0..b7, v2-b0..v2-b3, v2-s, v2-m, v2-l, phi=… */
  readonly id: string;
  readonly name: string;
  readonly family: 'v1' | 'v2';
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly dropout: number;
  /** stochastic-depth rate of the last block; block b of N gets rate·b/N */
  readonly dropConnect: number;
  readonly stages: readonly StageSpec[];
  readonly stemFilters: number;
  readonly headFilters: number;
  readonly bnMomentum: number;
  readonly bnEpsilon: number;
  /** V1's round_filters adds 8 when rounding lost more than 10 %; V2's does not */
  readonly roundUpTenPercent: boolean;
  readonly preprocessing: Preprocessing;
  /** published ImageNet top-1 (%), null when there is none (custom φ) */
  readonly top1: number | null;
  readonly scaling?: CompoundScaling;
}

const mb = (expand: number, kernel: number, stride: number, filtersIn: number, filtersOut: number, repeats: number, se = 0.25): StageSpec => ({
  kind: 'mbconv',
  expand,
  kernel,
  stride,
  filtersIn,
  filtersOut,
  repeats,
  se,
});
const fused = (expand: number, stride: number, filtersIn: number, filtersOut: number, repeats: number): StageSpec => ({
  kind: 'fused',
  expand,
  kernel: 3,
  stride,
  filtersIn,
  filtersOut,
  repeats,
  se: 0,
});

/** B0's table (paper Table 1, Keras DEFAULT_BLOCKS_ARGS); B1..B7 scale it. */
export const V1_BASE_STAGES: readonly StageSpec[] = [
  mb(1, 3, 1, 32, 16, 1),
  mb(6, 3, 2, 16, 24, 2),
  mb(6, 5, 2, 24, 40, 2),
  mb(6, 3, 2, 40, 80, 3),
  mb(6, 5, 1, 80, 112, 3),
  mb(6, 5, 2, 112, 192, 4),
  mb(6, 3, 1, 192, 320, 1),
];

/** EfficientNetV2-B0 table; B1..B3 scale it (Keras efficientnet_v2.py). */
const V2_B_STAGES: readonly StageSpec[] = [
  fused(1, 1, 32, 16, 1),
  fused(4, 2, 16, 32, 2),
  fused(4, 2, 32, 48, 2),
  mb(4, 3, 2, 48, 96, 3),
  mb(6, 3, 1, 96, 112, 5),
  mb(6, 3, 2, 112, 192, 8),
];
const V2_S_STAGES: readonly StageSpec[] = [
  fused(1, 1, 24, 24, 2),
  fused(4, 2, 24, 48, 4),
  fused(4, 2, 48, 64, 4),
  mb(4, 3, 2, 64, 128, 6),
  mb(6, 3, 1, 128, 160, 9),
  mb(6, 3, 2, 160, 256, 15),
];
const V2_M_STAGES: readonly StageSpec[] = [
  fused(1, 1, 24, 24, 3),
  fused(4, 2, 24, 48, 5),
  fused(4, 2, 48, 80, 5),
  mb(4, 3, 2, 80, 160, 7),
  mb(6, 3, 1, 160, 176, 14),
  mb(6, 3, 2, 176, 304, 18),
  mb(6, 3, 1, 304, 512, 5),
];
const V2_L_STAGES: readonly StageSpec[] = [
  fused(1, 1, 32, 32, 4),
  fused(4, 2, 32, 64, 7),
  fused(4, 2, 64, 96, 7),
  mb(4, 3, 2, 96, 192, 10),
  mb(6, 3, 1, 192, 224, 19),
  mb(6, 3, 2, 224, 384, 25),
  mb(6, 3, 1, 384, 640, 7),
];

function v1(n: number, width: number, depth: number, resolution: number, dropout: number, top1: number | null): VariantSpec {
  return {
    id: `b${n}`,
    name: `EfficientNet-B${n}`,
    family: 'v1',
    width,
    depth,
    resolution,
    dropout,
    dropConnect: 0.2,
    stages: V1_BASE_STAGES,
    stemFilters: 32,
    headFilters: 1280,
    bnMomentum: 0.99,
    bnEpsilon: 1e-3,
    roundUpTenPercent: true,
    preprocessing: IMAGENET_PREPROCESSING,
    top1,
  };
}

function v2(
  suffix: string,
  stages: readonly StageSpec[],
  width: number,
  depth: number,
  resolution: number,
  dropout: number,
  top1: number | null,
): VariantSpec {
  const bVariant = suffix.startsWith('b');
  return {
    id: `v2-${suffix}`,
    name: `EfficientNetV2-${suffix.toUpperCase()}`,
    family: 'v2',
    width,
    depth,
    resolution,
    dropout,
    dropConnect: 0.2,
    stages,
    stemFilters: stages[0].filtersIn,
    headFilters: 1280,
    bnMomentum: 0.9,
    bnEpsilon: 1e-3,
    roundUpTenPercent: false,
    // Keras: the B variants keep V1's ImageNet normalisation, S/M/L map pixels to [-1, 1]
    preprocessing: bVariant ? IMAGENET_PREPROCESSING : MINUS_ONE_TO_ONE_PREPROCESSING,
    top1,
  };
}

/** The published variants, in the order the model picker lists them. */
export const NAMED_VARIANTS: readonly VariantSpec[] = [
  v1(0, 1.0, 1.0, 224, 0.2, 77.1),
  v1(1, 1.0, 1.1, 240, 0.2, 79.1),
  v1(2, 1.1, 1.2, 260, 0.3, 80.1),
  v1(3, 1.2, 1.4, 300, 0.3, 81.6),
  v1(4, 1.4, 1.8, 380, 0.4, 82.9),
  v1(5, 1.6, 2.2, 456, 0.4, 83.6),
  v1(6, 1.8, 2.6, 528, 0.5, 84.0),
  v1(7, 2.0, 3.1, 600, 0.5, 84.3),
  // top-1 only where the reference sheet gives it; B1..B3 have no figure there
  v2('b0', V2_B_STAGES, 1.0, 1.0, 224, 0.2, 78.7),
  v2('b1', V2_B_STAGES, 1.0, 1.1, 240, 0.2, null),
  v2('b2', V2_B_STAGES, 1.1, 1.2, 260, 0.3, null),
  v2('b3', V2_B_STAGES, 1.2, 1.4, 300, 0.3, null),
  v2('s', V2_S_STAGES, 1.0, 1.0, 384, 0.2, 83.9),
  v2('m', V2_M_STAGES, 1.0, 1.0, 480, 0.3, 85.2),
  v2('l', V2_L_STAGES, 1.0, 1.0, 480, 0.4, 85.7),
];

export const DEFAULT_SCALING = { alpha: 1.2, beta: 1.1, gamma: 1.15 } as const;
export const PHI_RANGE = { min: -10, max: 10 } as const;

/** α·β²·γ² — the paper constrains it to ≈ 2 so FLOPs grow about 2^φ. */
export function flopsGrowthPerPhi(alpha: number, beta: number, gamma: number): number {
  return alpha * beta * beta * gamma * gamma;
}

/**
 * Resolution of a custom φ: γ^φ·224 rounded to the nearest multiple of 8, at least 32.
 * A multiple of 8 keeps every feature map even through the three stride-2 stages that matter
 * for tiling and batching, and matches how the published resolutions were chosen (all are
 * multiples of 4 or 8); 32 keeps the five stride-2 reductions above 1×1.
 */
export function customResolution(phi: number, gamma: number): number {
  return Math.max(32, 8 * Math.round((gamma ** phi * 224) / 8));
}

/**
 * A custom compound-scaled V1 network: depth α^φ, width β^φ, resolution γ^φ·224 (see
 * customResolution). φ = 0 is B0 exactly. Dropout stays B0's 0.2: the published variants raise it
 * by hand, and a formula would pretend to a precision nobody measured.
 */
export function customVariant(scaling: Partial<CompoundScaling> & { phi: number }): VariantSpec {
  const { phi } = scaling;
  const alpha = scaling.alpha ?? DEFAULT_SCALING.alpha;
  const beta = scaling.beta ?? DEFAULT_SCALING.beta;
  const gamma = scaling.gamma ?? DEFAULT_SCALING.gamma;
  for (const [name, value] of Object.entries({ phi, alpha, beta, gamma })) {
    if (!Number.isFinite(value)) throw new ApiError('invalid_input', `${name} must be a finite number, got ${value}`);
  }
  if (phi < PHI_RANGE.min || phi > PHI_RANGE.max) {
    throw new ApiError('invalid_input', `phi must be between ${PHI_RANGE.min} and ${PHI_RANGE.max}, got ${phi}`);
  }
  for (const [name, value] of Object.entries({ alpha, beta, gamma })) {
    if (value < 1 || value > 3) throw new ApiError('invalid_input', `${name} must be between 1 and 3, got ${value}`);
  }
  const isDefault = alpha === DEFAULT_SCALING.alpha && beta === DEFAULT_SCALING.beta && gamma === DEFAULT_SCALING.gamma;
  const id = isDefault ? `phi=${phi}` : `phi=${phi},alpha=${alpha},beta=${beta},gamma=${gamma}`;
  return {
    ...v1(0, beta ** phi, alpha ** phi, customResolution(phi, gamma), 0.2, null),
    id,
    name: isDefault ? `EfficientNet φ=${phi}` : `EfficientNet φ=${phi} (α ${alpha}, β ${beta}, γ ${gamma})`,
    scaling: { phi, alpha, beta, gamma },
  };
}

const ALIASES: Record<string, string> = {};
for (const v of NAMED_VARIANTS) {
  const suffix = v.id.replace(/^v2-/, '');
  const keras = v.family === 'v1' ? `efficientnet${v.id}` : `efficientnetv2-${suffix}`;
  for (const alias of [v.id, keras, keras.replace('efficientnet', 'efficientnet-'), v.name.toLowerCase()]) ALIASES[alias] = v.id;
}

/**
 * Look a variant up by id ("b0", "v2-s"), by Keras name ("efficientnetb0", "efficientnetv2-s"),
 * or parse a custom one: "phi=-4" or "phi=-4,alpha=1.2,beta=1.1,gamma=1.15".
 */
export function getVariant(id: string): VariantSpec {
  const key = id.trim().toLowerCase();
  if (key.startsWith('phi=')) return customVariant(parseCustomId(key));
  const canonical = ALIASES[key];
  const found = NAMED_VARIANTS.find((v) => v.id === canonical);
  if (!found) {
    throw new ApiError('invalid_input', `unknown model "${id}": use one of ${NAMED_VARIANTS.map((v) => v.id).join(', ')} or a custom "phi=<number>[,alpha=..,beta=..,gamma=..]"`);
  }
  return found;
}

function parseCustomId(key: string): CompoundScaling {
  const values: Record<string, number> = {};
  for (const part of key.split(',')) {
    const [name, raw] = part.split('=').map((s) => s.trim());
    if (!['phi', 'alpha', 'beta', 'gamma'].includes(name) || raw === undefined || raw === '' || !Number.isFinite(Number(raw))) {
      throw new ApiError('invalid_input', `cannot read "${part}" in custom model "${key}": expected phi=<number> and optionally alpha=, beta=, gamma=`);
    }
    values[name] = Number(raw);
  }
  return { phi: values.phi, alpha: values.alpha ?? DEFAULT_SCALING.alpha, beta: values.beta ?? DEFAULT_SCALING.beta, gamma: values.gamma ?? DEFAULT_SCALING.gamma };
}

// ---------- resolved plan ----------

/** One concrete block after scaling: what the builder builds and the estimates count. */
export interface BlockPlan {
  /** Keras layer-name prefix without the trailing underscore, e.g. "block2a" */
  readonly name: string;
  /** stage index (0-based) and repeat index inside the stage, as timm numbers blocks.{stage}.{repeat} */
  readonly stage: number;
  readonly repeat: number;
  readonly kind: BlockKind;
  readonly filtersIn: number;
  readonly filtersOut: number;
  readonly expand: number;
  /** filters after expansion: filtersIn·expand */
  readonly filtersMid: number;
  readonly kernel: number;
  readonly stride: number;
  /** SE bottleneck filters: max(1, floor(filtersIn·se)); 0 = no SE */
  readonly seFilters: number;
  readonly residual: boolean;
  /** stochastic-depth drop rate of the residual branch (0 when the block has no residual) */
  readonly dropRate: number;
}

export interface ArchitecturePlan {
  readonly variant: VariantSpec;
  readonly stemFilters: number;
  readonly headFilters: number;
  readonly blocks: readonly BlockPlan[];
}

/** Keras round_filters: scale by width, round to a multiple of 8 (V1 adds 8 if that lost > 10 %). */
export function roundFilters(filters: number, width: number, roundUpTenPercent: boolean, divisor = 8): number {
  const scaled = filters * width;
  let rounded = Math.max(divisor, Math.floor(Math.trunc(scaled + divisor / 2) / divisor) * divisor);
  if (roundUpTenPercent && rounded < 0.9 * scaled) rounded += divisor;
  return rounded;
}

/**
 * Keras round_repeats: ceil(depth·repeats). The epsilon only matters for custom φ, where α^φ·r can
 * land a rounding error above a whole number (e.g. 3.0000000000000004) and would gain a block.
 */
export function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(depth * repeats - 1e-9);
}

/**
 * Resolve a variant into concrete blocks, as Keras' builder loop does: the first block of a stage
 * takes the stage's stride and input filters, the rest stride 1 and in = out. Stochastic depth:
 * block b of N drops with rate dropConnect·b/N, on residual blocks only, N counting the scaled
 * blocks (paper, timm, Keras V1; Keras V2 divides by the unscaled count, which lets deep variants
 * exceed the nominal rate — we keep one rule for both families).
 */
export function planArchitecture(variant: VariantSpec, dropConnect = variant.dropConnect): ArchitecturePlan {
  const round = (f: number) => roundFilters(f, variant.width, variant.roundUpTenPercent);
  const total = variant.stages.reduce((sum, s) => sum + roundRepeats(s.repeats, variant.depth), 0);
  const blocks: BlockPlan[] = [];
  variant.stages.forEach((stage, stageIndex) => {
    const repeats = roundRepeats(stage.repeats, variant.depth);
    for (let j = 0; j < repeats; j++) {
      const filtersIn = j === 0 ? round(stage.filtersIn) : round(stage.filtersOut);
      const filtersOut = round(stage.filtersOut);
      const stride = j === 0 ? stage.stride : 1;
      const residual = stride === 1 && filtersIn === filtersOut;
      blocks.push({
        name: `block${stageIndex + 1}${blockLetter(j)}`,
        stage: stageIndex,
        repeat: j,
        kind: stage.kind,
        filtersIn,
        filtersOut,
        expand: stage.expand,
        filtersMid: filtersIn * stage.expand,
        kernel: stage.kernel,
        stride,
        seFilters: stage.se > 0 ? Math.max(1, Math.floor(filtersIn * stage.se)) : 0,
        residual,
        dropRate: residual ? (dropConnect * blocks.length) / total : 0,
      });
    }
  });
  return { variant, stemFilters: round(variant.stemFilters), headFilters: round(variant.headFilters), blocks };
}

/** Keras names repeats a, b, c, … (V2-L's longest stage has 25, still within a..z). */
function blockLetter(j: number): string {
  return String.fromCharCode(97 + j);
}
