/**
 * EfficientNet architectures as data: the base block tables of V1 (B0) and V2, the scaling
 * coefficients of every published variant, a custom compound-scaling φ variant, and the
 * resolved per-block plan that the network recipe (recipe.ts) walks for the builder and the estimates.
 *
 * Sources: Keras applications efficientnet.py / efficientnet_v2.py (tables, rounding rules, layer
 * names), the EfficientNet and EfficientNetV2 papers (Tan & Le, 2019 and 2021: coefficients,
 * published top-1); docs/efficientnet-reference.md collects the figures.
 */
import { PAPER_SCALING, PHI_RANGE, SCALING_COEFFICIENT_RANGE } from '../contract/calls-models';
import { ApiError } from '../contract/contract';

/** Keras V2's conv_type: 'mbconv' (expand 1×1, depthwise k×k, SE, project) or 'fused' (expand k×k, project). */
export type BlockKind = 'mbconv' | 'fused';

/**
 * One stage of a base block table, before width/depth scaling: a row of Keras' DEFAULT_BLOCKS_ARGS
 * (efficientnet.py, efficientnet_v2.py) under the same names. Keras' id_skip is true in every row
 * of every table, so it is not a field: the skip rule is in planArchitecture.
 */
export interface StageSpec {
  readonly convType: BlockKind;
  readonly kernelSize: number;
  readonly repeats: number;
  readonly filtersIn: number;
  readonly filtersOut: number;
  readonly expandRatio: number;
  /** of the stage's first block; the others have stride 1 */
  readonly strides: number;
  /** squeeze-and-excitation bottleneck as a fraction of the block's INPUT filters; 0 = no SE */
  readonly seRatio: number;
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
  /**
   * The network φ scales from: B0 scaled by the paper's coefficients to this φ (0 = B0 itself).
   * The compound-scaling lab searches α, β, γ one step above a tiny base (the paper searched at
   * φ = 1 above B0); a family it finds keeps that base, so its φ = 1 is the model it measured.
   */
  readonly basePhi?: number;
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

/** B0's table (paper Table 1, Keras DEFAULT_BLOCKS_ARGS); B1..B7 scale it. */
export const V1_BASE_STAGES: readonly StageSpec[] = [
  { convType: 'mbconv', kernelSize: 3, repeats: 1, filtersIn: 32, filtersOut: 16, expandRatio: 1, strides: 1, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 2, filtersIn: 16, filtersOut: 24, expandRatio: 6, strides: 2, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 5, repeats: 2, filtersIn: 24, filtersOut: 40, expandRatio: 6, strides: 2, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 3, filtersIn: 40, filtersOut: 80, expandRatio: 6, strides: 2, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 5, repeats: 3, filtersIn: 80, filtersOut: 112, expandRatio: 6, strides: 1, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 5, repeats: 4, filtersIn: 112, filtersOut: 192, expandRatio: 6, strides: 2, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 1, filtersIn: 192, filtersOut: 320, expandRatio: 6, strides: 1, seRatio: 0.25 },
];

/** EfficientNetV2-B0's table (Keras efficientnet_v2.py DEFAULT_BLOCKS_ARGS["efficientnetv2-b0"]); B1..B3 scale it. */
const V2_B_STAGES: readonly StageSpec[] = [
  { convType: 'fused', kernelSize: 3, repeats: 1, filtersIn: 32, filtersOut: 16, expandRatio: 1, strides: 1, seRatio: 0 },
  { convType: 'fused', kernelSize: 3, repeats: 2, filtersIn: 16, filtersOut: 32, expandRatio: 4, strides: 2, seRatio: 0 },
  { convType: 'fused', kernelSize: 3, repeats: 2, filtersIn: 32, filtersOut: 48, expandRatio: 4, strides: 2, seRatio: 0 },
  { convType: 'mbconv', kernelSize: 3, repeats: 3, filtersIn: 48, filtersOut: 96, expandRatio: 4, strides: 2, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 5, filtersIn: 96, filtersOut: 112, expandRatio: 6, strides: 1, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 8, filtersIn: 112, filtersOut: 192, expandRatio: 6, strides: 2, seRatio: 0.25 },
];
const V2_S_STAGES: readonly StageSpec[] = [
  { convType: 'fused', kernelSize: 3, repeats: 2, filtersIn: 24, filtersOut: 24, expandRatio: 1, strides: 1, seRatio: 0 },
  { convType: 'fused', kernelSize: 3, repeats: 4, filtersIn: 24, filtersOut: 48, expandRatio: 4, strides: 2, seRatio: 0 },
  { convType: 'fused', kernelSize: 3, repeats: 4, filtersIn: 48, filtersOut: 64, expandRatio: 4, strides: 2, seRatio: 0 },
  { convType: 'mbconv', kernelSize: 3, repeats: 6, filtersIn: 64, filtersOut: 128, expandRatio: 4, strides: 2, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 9, filtersIn: 128, filtersOut: 160, expandRatio: 6, strides: 1, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 15, filtersIn: 160, filtersOut: 256, expandRatio: 6, strides: 2, seRatio: 0.25 },
];
const V2_M_STAGES: readonly StageSpec[] = [
  { convType: 'fused', kernelSize: 3, repeats: 3, filtersIn: 24, filtersOut: 24, expandRatio: 1, strides: 1, seRatio: 0 },
  { convType: 'fused', kernelSize: 3, repeats: 5, filtersIn: 24, filtersOut: 48, expandRatio: 4, strides: 2, seRatio: 0 },
  { convType: 'fused', kernelSize: 3, repeats: 5, filtersIn: 48, filtersOut: 80, expandRatio: 4, strides: 2, seRatio: 0 },
  { convType: 'mbconv', kernelSize: 3, repeats: 7, filtersIn: 80, filtersOut: 160, expandRatio: 4, strides: 2, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 14, filtersIn: 160, filtersOut: 176, expandRatio: 6, strides: 1, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 18, filtersIn: 176, filtersOut: 304, expandRatio: 6, strides: 2, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 5, filtersIn: 304, filtersOut: 512, expandRatio: 6, strides: 1, seRatio: 0.25 },
];
const V2_L_STAGES: readonly StageSpec[] = [
  { convType: 'fused', kernelSize: 3, repeats: 4, filtersIn: 32, filtersOut: 32, expandRatio: 1, strides: 1, seRatio: 0 },
  { convType: 'fused', kernelSize: 3, repeats: 7, filtersIn: 32, filtersOut: 64, expandRatio: 4, strides: 2, seRatio: 0 },
  { convType: 'fused', kernelSize: 3, repeats: 7, filtersIn: 64, filtersOut: 96, expandRatio: 4, strides: 2, seRatio: 0 },
  { convType: 'mbconv', kernelSize: 3, repeats: 10, filtersIn: 96, filtersOut: 192, expandRatio: 4, strides: 2, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 19, filtersIn: 192, filtersOut: 224, expandRatio: 6, strides: 1, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 25, filtersIn: 224, filtersOut: 384, expandRatio: 6, strides: 2, seRatio: 0.25 },
  { convType: 'mbconv', kernelSize: 3, repeats: 7, filtersIn: 384, filtersOut: 640, expandRatio: 6, strides: 1, seRatio: 0.25 },
];

/** A published variant's coefficients: Keras' EfficientNetB0..B7(width, depth, resolution, dropout) plus its top-1. */
interface Coefficients {
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly dropout: number;
  readonly top1: number | null;
}

function v1(n: number, c: Coefficients): VariantSpec {
  return {
    id: `b${n}`,
    name: `EfficientNet-B${n}`,
    family: 'v1',
    ...c,
    dropConnect: 0.2,
    stages: V1_BASE_STAGES,
    stemFilters: 32,
    headFilters: 1280,
    bnMomentum: 0.99,
    bnEpsilon: 1e-3,
    roundUpTenPercent: true,
    preprocessing: IMAGENET_PREPROCESSING,
  };
}

function v2(suffix: string, stages: readonly StageSpec[], c: Coefficients): VariantSpec {
  const bVariant = suffix.startsWith('b');
  return {
    id: `v2-${suffix}`,
    name: `EfficientNetV2-${suffix.toUpperCase()}`,
    family: 'v2',
    ...c,
    dropConnect: 0.2,
    stages,
    stemFilters: stages[0].filtersIn,
    headFilters: 1280,
    bnMomentum: 0.9,
    bnEpsilon: 1e-3,
    roundUpTenPercent: false,
    // Keras: the B variants keep V1's ImageNet normalisation, S/M/L map pixels to [-1, 1]
    preprocessing: bVariant ? IMAGENET_PREPROCESSING : MINUS_ONE_TO_ONE_PREPROCESSING,
  };
}

/** The published variants, in the order the model picker lists them. */
export const NAMED_VARIANTS: readonly VariantSpec[] = [
  v1(0, { width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2, top1: 77.1 }),
  v1(1, { width: 1.0, depth: 1.1, resolution: 240, dropout: 0.2, top1: 79.1 }),
  v1(2, { width: 1.1, depth: 1.2, resolution: 260, dropout: 0.3, top1: 80.1 }),
  v1(3, { width: 1.2, depth: 1.4, resolution: 300, dropout: 0.3, top1: 81.6 }),
  v1(4, { width: 1.4, depth: 1.8, resolution: 380, dropout: 0.4, top1: 82.9 }),
  v1(5, { width: 1.6, depth: 2.2, resolution: 456, dropout: 0.4, top1: 83.6 }),
  v1(6, { width: 1.8, depth: 2.6, resolution: 528, dropout: 0.5, top1: 84.0 }),
  v1(7, { width: 2.0, depth: 3.1, resolution: 600, dropout: 0.5, top1: 84.3 }),
  // top-1 only where the EfficientNetV2 paper gives it; B1..B3 have no figure there
  v2('b0', V2_B_STAGES, { width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2, top1: 78.7 }),
  v2('b1', V2_B_STAGES, { width: 1.0, depth: 1.1, resolution: 240, dropout: 0.2, top1: null }),
  v2('b2', V2_B_STAGES, { width: 1.1, depth: 1.2, resolution: 260, dropout: 0.3, top1: null }),
  v2('b3', V2_B_STAGES, { width: 1.2, depth: 1.4, resolution: 300, dropout: 0.3, top1: null }),
  v2('s', V2_S_STAGES, { width: 1.0, depth: 1.0, resolution: 384, dropout: 0.2, top1: 83.9 }),
  v2('m', V2_M_STAGES, { width: 1.0, depth: 1.0, resolution: 480, dropout: 0.3, top1: 85.2 }),
  v2('l', V2_L_STAGES, { width: 1.0, depth: 1.0, resolution: 480, dropout: 0.4, top1: 85.7 }),
];

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
export function customResolution(phi: number, gamma: number, basePhi = 0): number {
  return Math.max(32, 8 * Math.round((PAPER_SCALING.gamma ** basePhi * gamma ** phi * 224) / 8));
}

/**
 * A custom compound-scaled V1 network: depth α^φ, width β^φ, resolution γ^φ·224 (see
 * customResolution) above B0, or above a base (basePhi: B0 scaled down or up by the paper's
 * coefficients first). φ = 0 with no base is B0 exactly. Dropout stays B0's 0.2: the published
 * variants raise it by hand, and a formula would pretend to a precision nobody measured.
 */
export function customVariant(scaling: Partial<CompoundScaling> & { phi: number }): VariantSpec {
  const { phi } = scaling;
  const alpha = scaling.alpha ?? PAPER_SCALING.alpha;
  const beta = scaling.beta ?? PAPER_SCALING.beta;
  const gamma = scaling.gamma ?? PAPER_SCALING.gamma;
  const basePhi = scaling.basePhi ?? 0;
  for (const [name, value] of Object.entries({ phi, alpha, beta, gamma, basePhi })) {
    if (!Number.isFinite(value)) throw new ApiError('invalid_input', `${name} must be a finite number, got ${value}`);
  }
  // the contract's ranges (models.describe checks them at the door); model ids like "phi=-4" arrive as strings
  checkRange('phi', phi, PHI_RANGE);
  checkRange('base', basePhi, PHI_RANGE);
  for (const [name, value] of Object.entries({ alpha, beta, gamma })) checkRange(name, value, SCALING_COEFFICIENT_RANGE);
  const isDefault = alpha === PAPER_SCALING.alpha && beta === PAPER_SCALING.beta && gamma === PAPER_SCALING.gamma;
  const base = basePhi === 0 ? '' : `,base=${basePhi}`;
  const id = isDefault && basePhi === 0 ? `phi=${phi}` : `phi=${phi},alpha=${alpha},beta=${beta},gamma=${gamma}${base}`;
  const depth = PAPER_SCALING.alpha ** basePhi * alpha ** phi;
  const width = PAPER_SCALING.beta ** basePhi * beta ** phi;
  const baseWords = basePhi === 0 ? '' : ` above base φ ${basePhi}`;
  return {
    ...v1(0, { width, depth, resolution: customResolution(phi, gamma, basePhi), dropout: 0.2, top1: null }),
    id,
    name: isDefault && basePhi === 0 ? `EfficientNet φ=${phi}` : `EfficientNet φ=${phi} (α ${alpha}, β ${beta}, γ ${gamma}${baseWords})`,
    scaling: basePhi === 0 ? { phi, alpha, beta, gamma } : { phi, alpha, beta, gamma, basePhi },
  };
}

function checkRange(name: string, value: number, range: { readonly min: number; readonly max: number }): void {
  if (value < range.min || value > range.max) throw new ApiError('invalid_input', `${name} must be between ${range.min} and ${range.max}, got ${value}`);
}

const ALIASES: Record<string, string> = {};
for (const v of NAMED_VARIANTS) {
  const suffix = v.id.replace(/^v2-/, '');
  const keras = v.family === 'v1' ? `efficientnet${v.id}` : `efficientnetv2-${suffix}`;
  for (const alias of [v.id, keras, keras.replace('efficientnet', 'efficientnet-'), v.name.toLowerCase()]) ALIASES[alias] = v.id;
}

/**
 * Look a variant up by id ("b0", "v2-s"), by Keras name ("efficientnetb0", "efficientnetv2-s"),
 * or parse a custom one: "phi=-4", "phi=-4,alpha=1.2,beta=1.1,gamma=1.15" or, above a base, "phi=1,alpha=1.3,beta=1.05,gamma=1.2,base=-6".
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
    if (!['phi', 'alpha', 'beta', 'gamma', 'base'].includes(name) || raw === undefined || raw === '' || !Number.isFinite(Number(raw))) {
      throw new ApiError('invalid_input', `cannot read "${part}" in custom model "${key}": expected phi=<number> and optionally alpha=, beta=, gamma=, base=`);
    }
    values[name] = Number(raw);
  }
  const scaling = { phi: values.phi, alpha: values.alpha ?? PAPER_SCALING.alpha, beta: values.beta ?? PAPER_SCALING.beta, gamma: values.gamma ?? PAPER_SCALING.gamma };
  return values.base === undefined ? scaling : { ...scaling, basePhi: values.base };
}

// ---------- resolved plan ----------

/**
 * One concrete block after scaling: what the network recipe (recipe.ts) walks, for the builder and
 * the layer table alike. Fields are per block, so stride is this block's, not the stage's.
 */
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
  /** SE bottleneck filters: max(1, floor(filtersIn·seRatio)); 0 = no SE */
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

/** A block adds its input back when it keeps the shape (timm: stride 1 and in == out; Keras' id_skip is always on). */
const hasResidual = (stride: number, filtersIn: number, filtersOut: number) => stride === 1 && filtersIn === filtersOut;
/** The SE bottleneck is a fraction of the block's input filters, at least one (Keras, timm). */
const seFiltersOf = (filtersIn: number, seRatio: number) => (seRatio > 0 ? Math.max(1, Math.floor(filtersIn * seRatio)) : 0);
/** Stochastic depth grows linearly: block b of N (counting from 0) drops with rate dropConnect·b/N. */
const dropRateOf = (dropConnect: number, block: number, blocks: number) => (dropConnect * block) / blocks;
/** Keras names repeats a, b, c, … (V2-L's longest stage has 25, still within a..z). */
const blockName = (stage: number, repeat: number) => `block${stage + 1}${String.fromCharCode(97 + repeat)}`;

/**
 * Resolve a variant into concrete blocks, as Keras' builder loop does: the first block of a stage
 * takes the stage's stride and input filters, the rest stride 1 and in = out. Stochastic depth
 * applies to residual blocks only, N counting the scaled blocks (paper, timm, Keras V1; Keras V2
 * divides by the unscaled count, which lets deep variants exceed the nominal rate — we keep one
 * rule for both families).
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
      const stride = j === 0 ? stage.strides : 1;
      const residual = hasResidual(stride, filtersIn, filtersOut);
      blocks.push({
        name: blockName(stageIndex, j),
        stage: stageIndex,
        repeat: j,
        kind: stage.convType,
        filtersIn,
        filtersOut,
        expand: stage.expandRatio,
        filtersMid: filtersIn * stage.expandRatio,
        kernel: stage.kernelSize,
        stride,
        seFilters: seFiltersOf(filtersIn, stage.seRatio),
        residual,
        dropRate: residual ? dropRateOf(dropConnect, blocks.length, total) : 0,
      });
    }
  });
  return { variant, stemFilters: round(variant.stemFilters), headFilters: round(variant.headFilters), blocks };
}
