/**
 * The EfficientNet recipe, written once: stem, the blocks of an ArchitecturePlan, head and top,
 * layer by layer with Keras' layer names (applications/efficientnet.py and efficientnet_v2.py),
 * so Keras and timm weights map by name. It walks the plan against a LayerOps: builder.ts turns
 * each step into a tf.layers layer, layers.ts into a row of the layer table (shape, weights,
 * multiply-adds) that the estimates read. One walk feeds both, so they cannot disagree.
 */
import { PREPROCESS_LAYER, type ResolvedBuildOptions } from './build-options';
import type { ArchitecturePlan, BlockPlan } from './variants';

export interface ConvLayer {
  readonly name: string;
  readonly filters: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: 'same' | 'valid';
  /** the block convolutions have none (BatchNorm follows); the SE convolutions have one */
  readonly useBias: boolean;
  readonly activation?: 'swish' | 'sigmoid';
}

export interface DepthwiseLayer {
  readonly name: string;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: 'same' | 'valid';
}

/** One method per kind of layer; T is what flows between layers (a symbolic tensor, or a shape). */
export interface LayerOps<T> {
  input(name: string, shape: readonly [number, number, number]): T;
  /** frozen 1×1 depthwise convolution with bias that normalises RGB pixels 0..255 */
  preprocess(x: T, name: string): T;
  /** zeros on every side, `pad` pixels wide */
  pad(x: T, pad: number, name: string): T;
  conv(x: T, layer: ConvLayer): T;
  depthwise(x: T, layer: DepthwiseLayer): T;
  batchNorm(x: T, name: string, momentum: number, epsilon: number): T;
  swish(x: T, name: string): T;
  globalPool(x: T, pooling: 'avg' | 'max', name: string): T;
  reshape(x: T, shape: readonly [number, number, number], name: string): T;
  multiply(x: T, y: T, name: string): T;
  add(x: T, y: T, name: string): T;
  dropout(x: T, rate: number, name: string): T;
  /** Keras' stochastic depth: dropout of the whole residual branch per sample (noise shape [batch, 1, 1, 1]) */
  dropBranch(x: T, rate: number, name: string): T;
  dense(x: T, units: number, activation: 'softmax' | 'linear', name: string): T;
}

/** Walk the whole network; returns the model's output. */
export function walkNetwork<T>(plan: ArchitecturePlan, opts: ResolvedBuildOptions, ops: LayerOps<T>): T {
  return new Recipe(plan, opts, ops).network();
}

class Recipe<T> {
  constructor(
    private readonly plan: ArchitecturePlan,
    private readonly opts: ResolvedBuildOptions,
    private readonly ops: LayerOps<T>,
  ) {}

  network(): T {
    const { plan, opts, ops } = this;
    let x = ops.input('pixels', [opts.resolution, opts.resolution, 3]);
    x = ops.preprocess(x, PREPROCESS_LAYER);
    x = this.convBnAct(x, plan.stemFilters, 3, 2, 'stem_conv', 'stem_bn', 'stem_activation');
    for (const block of plan.blocks) x = block.kind === 'mbconv' ? this.mbconv(x, block) : this.fusedMbconv(x, block);
    x = this.convBnAct(x, plan.headFilters, 1, 1, 'top_conv', 'top_bn', 'top_activation');
    if (opts.includeTop) {
      x = ops.globalPool(x, 'avg', 'avg_pool');
      if (opts.dropout > 0) x = ops.dropout(x, opts.dropout, 'top_dropout');
      return ops.dense(x, opts.classes, opts.classifierActivation, 'predictions');
    }
    if (opts.pooling) return ops.globalPool(x, opts.pooling, `${opts.pooling}_pool`);
    return x;
  }

  /** Keras block(): expand 1×1 → depthwise k×k → SE → project 1×1 → (drop + add). */
  private mbconv(input: T, b: BlockPlan): T {
    const p = `${b.name}_`;
    let x = input;
    if (b.expand !== 1) x = this.convBnAct(x, b.filtersMid, 1, 1, `${p}expand_conv`, `${p}expand_bn`, `${p}expand_activation`);
    // Keras V2 calls the depthwise layer "dwconv2"
    x = this.depthwise(x, b.kernel, b.stride, `${p}${this.plan.variant.family === 'v2' ? 'dwconv2' : 'dwconv'}`);
    x = this.bn(x, `${p}bn`);
    x = this.ops.swish(x, `${p}activation`);
    if (b.seFilters > 0) x = this.squeezeExcite(x, b, p);
    x = this.conv(x, b.filtersOut, 1, 1, `${p}project_conv`);
    x = this.bn(x, `${p}project_bn`);
    return this.residual(x, input, b, p);
  }

  /** Keras V2 FusedMBConvBlock: expand k×k (stride) → SE → project 1×1; with expand 1 just k×k + act. */
  private fusedMbconv(input: T, b: BlockPlan): T {
    const p = `${b.name}_`;
    const expands = b.expand !== 1;
    let x = input;
    if (expands) x = this.convBnAct(x, b.filtersMid, b.kernel, b.stride, `${p}expand_conv`, `${p}expand_bn`, `${p}expand_activation`);
    if (b.seFilters > 0) x = this.squeezeExcite(x, b, p);
    x = expands ? this.conv(x, b.filtersOut, 1, 1, `${p}project_conv`) : this.conv(x, b.filtersOut, b.kernel, b.stride, `${p}project_conv`);
    x = this.bn(x, `${p}project_bn`);
    if (!expands) x = this.ops.swish(x, `${p}project_activation`);
    return this.residual(x, input, b, p);
  }

  /** SE of the expanded features: pool → 1×1 conv (swish) to seFilters → 1×1 conv (sigmoid) → multiply. */
  private squeezeExcite(x: T, b: BlockPlan, p: string): T {
    const { ops } = this;
    let se = ops.globalPool(x, 'avg', `${p}se_squeeze`);
    se = ops.reshape(se, [1, 1, b.filtersMid], `${p}se_reshape`);
    se = ops.conv(se, { name: `${p}se_reduce`, filters: b.seFilters, kernel: 1, stride: 1, padding: 'same', useBias: true, activation: 'swish' });
    se = ops.conv(se, { name: `${p}se_expand`, filters: b.filtersMid, kernel: 1, stride: 1, padding: 'same', useBias: true, activation: 'sigmoid' });
    return ops.multiply(x, se, `${p}se_excite`);
  }

  private residual(x: T, input: T, b: BlockPlan, p: string): T {
    if (!b.residual) return x;
    if (b.dropRate > 0) x = this.ops.dropBranch(x, b.dropRate, `${p}drop`);
    return this.ops.add(x, input, `${p}add`);
  }

  private convBnAct(x: T, filters: number, kernel: number, stride: number, conv: string, bn: string, act: string): T {
    return this.ops.swish(this.bn(this.conv(x, filters, kernel, stride, conv), bn), act);
  }

  private conv(x: T, filters: number, kernel: number, stride: number, name: string): T {
    return this.ops.conv(this.padForStride(x, kernel, stride, name), { name, filters, kernel, stride, padding: this.convPadding(stride), useBias: false });
  }

  private depthwise(x: T, kernel: number, stride: number, name: string): T {
    return this.ops.depthwise(this.padForStride(x, kernel, stride, name), { name, kernel, stride, padding: this.convPadding(stride) });
  }

  /**
   * 'tf-same' is TensorFlow SAME (extra pixel bottom/right at stride 2), what Keras' ZeroPadding2D
   * (correct_pad) + 'valid' computes. Stride 1 with odd kernels pads k//2 on both sides either way;
   * only stride 2 in 'symmetric' mode (PyTorch, timm's plain efficientnet_*) needs a padding layer.
   */
  private padForStride(x: T, kernel: number, stride: number, name: string): T {
    return this.padsExplicitly(stride) ? this.ops.pad(x, Math.floor(kernel / 2), `${name}_pad`) : x;
  }

  private convPadding(stride: number): 'same' | 'valid' {
    return this.padsExplicitly(stride) ? 'valid' : 'same';
  }

  private padsExplicitly(stride: number): boolean {
    return stride !== 1 && this.opts.padding === 'symmetric';
  }

  private bn(x: T, name: string): T {
    return this.ops.batchNorm(x, name, this.plan.variant.bnMomentum, this.opts.bnEpsilon);
  }
}
