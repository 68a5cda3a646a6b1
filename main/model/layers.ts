/**
 * The layer table of a built model, derived from the ArchitecturePlan without building it:
 * every layer's name, output shape, weights and multiply-adds, in the builder's order. Parameter
 * counts, FLOPs and memory estimates read this table, so B7 costs nothing to describe; tests check
 * it equals the layers of actually built models (names, shapes, weights) for small variants.
 */
import { planArchitecture, type ArchitecturePlan, type BlockPlan, type VariantSpec } from './variants';
import { PREPROCESS_LAYER, resolveBuildOptions, type BuildOptions, type ResolvedBuildOptions } from './build-options';

export type LayerKind =
  | 'input'
  | 'preprocess'
  | 'pad'
  | 'conv'
  | 'depthwise'
  | 'batchnorm'
  | 'activation'
  | 'pool'
  | 'reshape'
  | 'multiply'
  | 'add'
  | 'dropout'
  | 'dense';

export interface WeightInfo {
  /** weight name inside its layer, as tf.layers and Keras name it: kernel, depthwise_kernel, bias, gamma, … */
  readonly name: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
}

export interface LayerInfo {
  readonly name: string;
  readonly kind: LayerKind;
  /** output shape without the batch dimension */
  readonly outputShape: readonly number[];
  readonly weights: readonly WeightInfo[];
  /** multiply-adds for one image (convolutions and the classifier; elementwise work is not counted) */
  readonly macs: number;
}

type Shape = readonly [number, number, number];

export function describeLayers(variant: VariantSpec, options: BuildOptions = {}): LayerInfo[] {
  const opts = resolveBuildOptions(variant, options);
  return new LayerTable(planArchitecture(variant, opts.dropConnect), opts).layers;
}

/** Mirrors Builder in builder.ts step by step; keep the two in the same order. */
class LayerTable {
  readonly layers: LayerInfo[] = [];

  constructor(
    private readonly plan: ArchitecturePlan,
    private readonly opts: ResolvedBuildOptions,
  ) {
    const r = opts.resolution;
    let s: Shape = [r, r, 3];
    this.push('pixels', 'input', s);
    this.push(PREPROCESS_LAYER, 'preprocess', s, [w('depthwise_kernel', [1, 1, 3, 1], false), w('bias', [3], false)], 0);
    s = this.conv(s, plan.stemFilters, 3, 2, 'stem_conv');
    this.bn(s, 'stem_bn');
    this.act(s, 'stem_activation');
    for (const b of plan.blocks) s = b.kind === 'mbconv' ? this.mbconv(s, b) : this.fused(s, b);
    s = this.conv(s, plan.headFilters, 1, 1, 'top_conv');
    this.bn(s, 'top_bn');
    this.act(s, 'top_activation');
    const c = s[2];
    if (opts.includeTop) {
      this.push('avg_pool', 'pool', [c]);
      if (opts.dropout > 0) this.push('top_dropout', 'dropout', [c]);
      this.push('predictions', 'dense', [opts.classes], [w('kernel', [c, opts.classes]), w('bias', [opts.classes])], c * opts.classes);
    } else if (opts.pooling) {
      this.push(opts.pooling === 'avg' ? 'avg_pool' : 'max_pool', 'pool', [c]);
    }
  }

  private mbconv(input: Shape, b: BlockPlan): Shape {
    const p = `${b.name}_`;
    let s = input;
    if (b.expand !== 1) {
      s = this.conv(s, b.filtersMid, 1, 1, `${p}expand_conv`);
      this.bn(s, `${p}expand_bn`);
      this.act(s, `${p}expand_activation`);
    }
    s = this.depthwise(s, b.kernel, b.stride, `${p}${this.plan.variant.family === 'v2' ? 'dwconv2' : 'dwconv'}`);
    this.bn(s, `${p}bn`);
    this.act(s, `${p}activation`);
    if (b.seFilters > 0) this.squeezeExcite(s, b, p);
    s = this.conv(s, b.filtersOut, 1, 1, `${p}project_conv`);
    this.bn(s, `${p}project_bn`);
    this.residual(s, b, p);
    return s;
  }

  private fused(input: Shape, b: BlockPlan): Shape {
    const p = `${b.name}_`;
    let s = input;
    if (b.expand !== 1) {
      s = this.conv(s, b.filtersMid, b.kernel, b.stride, `${p}expand_conv`);
      this.bn(s, `${p}expand_bn`);
      this.act(s, `${p}expand_activation`);
    }
    if (b.seFilters > 0) this.squeezeExcite(s, b, p);
    s = b.expand !== 1 ? this.conv(s, b.filtersOut, 1, 1, `${p}project_conv`) : this.conv(s, b.filtersOut, b.kernel, b.stride, `${p}project_conv`);
    this.bn(s, `${p}project_bn`);
    if (b.expand === 1) this.act(s, `${p}project_activation`);
    this.residual(s, b, p);
    return s;
  }

  private squeezeExcite(s: Shape, b: BlockPlan, p: string): void {
    const mid = b.filtersMid;
    this.push(`${p}se_squeeze`, 'pool', [mid]);
    this.push(`${p}se_reshape`, 'reshape', [1, 1, mid]);
    this.push(`${p}se_reduce`, 'conv', [1, 1, b.seFilters], [w('kernel', [1, 1, mid, b.seFilters]), w('bias', [b.seFilters])], mid * b.seFilters);
    this.push(`${p}se_expand`, 'conv', [1, 1, mid], [w('kernel', [1, 1, b.seFilters, mid]), w('bias', [mid])], b.seFilters * mid);
    this.push(`${p}se_excite`, 'multiply', s);
  }

  private residual(s: Shape, b: BlockPlan, p: string): void {
    if (!b.residual) return;
    if (b.dropRate > 0) this.push(`${p}drop`, 'dropout', s);
    this.push(`${p}add`, 'add', s);
  }

  private conv(s: Shape, filters: number, k: number, stride: number, name: string): Shape {
    const inC = s[2];
    s = this.pad(s, k, stride, name);
    const out = this.outShape(s, k, stride, filters);
    this.push(name, 'conv', out, [w('kernel', [k, k, inC, filters])], out[0] * out[1] * filters * k * k * inC);
    return out;
  }

  private depthwise(s: Shape, k: number, stride: number, name: string): Shape {
    const c = s[2];
    s = this.pad(s, k, stride, name);
    const out = this.outShape(s, k, stride, c);
    this.push(name, 'depthwise', out, [w('depthwise_kernel', [k, k, c, 1])], out[0] * out[1] * c * k * k);
    return out;
  }

  private pad(s: Shape, k: number, stride: number, name: string): Shape {
    if (stride === 1 || this.opts.padding === 'tf-same') return s;
    const p = Math.floor(k / 2);
    const padded: Shape = [s[0] + 2 * p, s[1] + 2 * p, s[2]];
    this.push(`${name}_pad`, 'pad', padded);
    return padded;
  }

  /** 'same': ceil(n/stride); 'valid' after explicit symmetric padding: floor((n − k)/stride) + 1. */
  private outShape(s: Shape, k: number, stride: number, filters: number): Shape {
    const explicit = stride !== 1 && this.opts.padding === 'symmetric';
    const size = (n: number) => (explicit ? Math.floor((n - k) / stride) + 1 : Math.ceil(n / stride));
    return [size(s[0]), size(s[1]), filters];
  }

  private bn(s: Shape, name: string): void {
    const c = s[2];
    this.push(name, 'batchnorm', s, [w('gamma', [c]), w('beta', [c]), w('moving_mean', [c], false), w('moving_variance', [c], false)]);
  }

  private act(s: Shape, name: string): void {
    this.push(name, 'activation', s);
  }

  private push(name: string, kind: LayerKind, outputShape: readonly number[], weights: WeightInfo[] = [], macs = 0): void {
    this.layers.push({ name, kind, outputShape, weights, macs });
  }
}

function w(name: string, shape: number[], trainable = true): WeightInfo {
  return { name, shape, trainable };
}
