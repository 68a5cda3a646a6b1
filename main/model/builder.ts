/**
 * Builds EfficientNet V1/V2 as tf.layers functional models from an ArchitecturePlan, the way
 * Keras' applications/efficientnet.py does, with Keras' layer names so Keras weights map by name.
 *
 * Every layer is a stock tf.layers class, so a saved model.json reloads with plain
 * tf.loadLayersModel in any TF.js program, without Effitune code:
 * - preprocessing is a frozen 1×1 DepthwiseConv2D ("preprocess") holding x·1/(d·std) − mean/std,
 *   so the model takes RGB pixels 0..255 and an exported model cannot disagree about normalisation;
 * - stochastic depth is Keras' own formulation, Dropout with noiseShape [batch, 1, 1, 1]: it drops
 *   the whole residual branch per sample in training and is the identity in inference.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PREPROCESS_LAYER, resolveBuildOptions, type BuildOptions, type ResolvedBuildOptions } from './build-options';
import { getVariant, planArchitecture, type ArchitecturePlan, type BlockPlan, type Preprocessing, type VariantSpec } from './variants';

/** Build a fresh, randomly initialised model (Keras initialisers) for a variant or variant id. */
export function buildEfficientNet(variantOrId: VariantSpec | string, options: BuildOptions = {}): tfl.LayersModel {
  const variant = typeof variantOrId === 'string' ? getVariant(variantOrId) : variantOrId;
  const opts = resolveBuildOptions(variant, options);
  const plan = planArchitecture(variant, opts.dropConnect);
  return new Builder(plan, opts).build();
}

/** The constants of the preprocess layer: kernel [1,1,3,1] = 1/(divisor·std), bias = −mean/std. */
export function preprocessWeights(p: Preprocessing): { kernel: Float32Array; bias: Float32Array } {
  const kernel = new Float32Array(3);
  const bias = new Float32Array(3);
  for (let c = 0; c < 3; c++) {
    kernel[c] = 1 / (p.divisor * p.std[c]);
    bias[c] = -p.mean[c] / p.std[c];
  }
  return { kernel, bias };
}

type Sym = tfl.SymbolicTensor;

class Builder {
  private seedCounter = 0;

  constructor(
    private readonly plan: ArchitecturePlan,
    private readonly opts: ResolvedBuildOptions,
  ) {}

  build(): tfl.LayersModel {
    const { plan, opts } = this;
    const input = tfl.input({ shape: [opts.resolution, opts.resolution, 3], name: 'pixels' });
    const preprocess = tfl.layers.depthwiseConv2d({ kernelSize: 1, useBias: true, trainable: false, name: PREPROCESS_LAYER });
    let x = preprocess.apply(input) as Sym;

    x = this.conv(x, plan.stemFilters, 3, 2, 'stem_conv');
    x = this.bn(x, 'stem_bn');
    x = this.act(x, 'stem_activation');
    for (const block of plan.blocks) x = block.kind === 'mbconv' ? this.mbconv(x, block) : this.fusedMbconv(x, block);

    x = this.conv(x, plan.headFilters, 1, 1, 'top_conv');
    x = this.bn(x, 'top_bn');
    x = this.act(x, 'top_activation');
    if (opts.includeTop) {
      x = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as Sym;
      if (opts.dropout > 0) x = tfl.layers.dropout({ rate: opts.dropout, name: 'top_dropout' }).apply(x) as Sym;
      x = tfl.layers
        .dense({
          units: opts.classes,
          activation: opts.classifierActivation,
          kernelInitializer: tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanOut', distribution: 'uniform', seed: this.nextSeed() }),
          name: 'predictions',
        })
        .apply(x) as Sym;
    } else if (opts.pooling === 'avg') {
      x = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as Sym;
    } else if (opts.pooling === 'max') {
      x = tfl.layers.globalMaxPooling2d({ name: 'max_pool' }).apply(x) as Sym;
    }

    const model = tfl.model({ inputs: input, outputs: x, name: modelName(plan.variant) });
    const { kernel, bias } = preprocessWeights(opts.preprocessing);
    tf.tidy(() => preprocess.setWeights([tf.tensor4d(kernel, [1, 1, 3, 1]), tf.tensor1d(bias)]));
    // the constructor's trainable:false keeps the layer out of trainableWeights, but its variables
    // are created trainable; the setter freezes them too, so no optimizer or tf.variableGrads touches them
    preprocess.trainable = false;
    return model;
  }

  /** Keras block(): expand 1×1 → depthwise k×k → SE → project 1×1 → (drop + add). */
  private mbconv(input: Sym, b: BlockPlan): Sym {
    const p = `${b.name}_`;
    const v2 = this.plan.variant.family === 'v2';
    let x = input;
    if (b.expand !== 1) {
      x = this.conv(x, b.filtersMid, 1, 1, `${p}expand_conv`);
      x = this.bn(x, `${p}expand_bn`);
      x = this.act(x, `${p}expand_activation`);
    }
    // Keras V2 calls the depthwise layer "dwconv2"
    x = this.depthwise(x, b.kernel, b.stride, `${p}${v2 ? 'dwconv2' : 'dwconv'}`);
    x = this.bn(x, `${p}bn`);
    x = this.act(x, `${p}activation`);
    if (b.seFilters > 0) x = this.squeezeExcite(x, b, p);
    x = this.conv(x, b.filtersOut, 1, 1, `${p}project_conv`);
    x = this.bn(x, `${p}project_bn`);
    return this.residual(x, input, b, p);
  }

  /** Keras V2 FusedMBConvBlock: expand k×k (stride) → SE → project 1×1; with expand 1 just k×k + act. */
  private fusedMbconv(input: Sym, b: BlockPlan): Sym {
    const p = `${b.name}_`;
    let x = input;
    if (b.expand !== 1) {
      x = this.conv(x, b.filtersMid, b.kernel, b.stride, `${p}expand_conv`);
      x = this.bn(x, `${p}expand_bn`);
      x = this.act(x, `${p}expand_activation`);
    }
    if (b.seFilters > 0) x = this.squeezeExcite(x, b, p);
    x = b.expand !== 1 ? this.conv(x, b.filtersOut, 1, 1, `${p}project_conv`) : this.conv(x, b.filtersOut, b.kernel, b.stride, `${p}project_conv`);
    x = this.bn(x, `${p}project_bn`);
    if (b.expand === 1) x = this.act(x, `${p}project_activation`);
    return this.residual(x, input, b, p);
  }

  private squeezeExcite(x: Sym, b: BlockPlan, p: string): Sym {
    let se = tfl.layers.globalAveragePooling2d({ name: `${p}se_squeeze` }).apply(x) as Sym;
    se = tfl.layers.reshape({ targetShape: [1, 1, b.filtersMid], name: `${p}se_reshape` }).apply(se) as Sym;
    se = tfl.layers
      .conv2d({ filters: b.seFilters, kernelSize: 1, padding: 'same', activation: 'swish', kernelInitializer: this.convInit(), name: `${p}se_reduce` })
      .apply(se) as Sym;
    se = tfl.layers
      .conv2d({ filters: b.filtersMid, kernelSize: 1, padding: 'same', activation: 'sigmoid', kernelInitializer: this.convInit(), name: `${p}se_expand` })
      .apply(se) as Sym;
    return tfl.layers.multiply({ name: `${p}se_excite` }).apply([x, se]) as Sym;
  }

  private residual(x: Sym, input: Sym, b: BlockPlan, p: string): Sym {
    if (!b.residual) return x;
    if (b.dropRate > 0) x = tfl.layers.dropout({ rate: b.dropRate, noiseShape: [null, 1, 1, 1] as unknown as number[], name: `${p}drop` }).apply(x) as Sym;
    return tfl.layers.add({ name: `${p}add` }).apply([x, input]) as Sym;
  }

  private conv(x: Sym, filters: number, kernel: number, stride: number, name: string): Sym {
    x = this.padForStride(x, kernel, stride, name);
    return tfl.layers
      .conv2d({ filters, kernelSize: kernel, strides: stride, padding: this.convPadding(stride), useBias: false, kernelInitializer: this.convInit(), name })
      .apply(x) as Sym;
  }

  private depthwise(x: Sym, kernel: number, stride: number, name: string): Sym {
    x = this.padForStride(x, kernel, stride, name);
    return tfl.layers
      .depthwiseConv2d({ kernelSize: kernel, strides: stride, padding: this.convPadding(stride), useBias: false, depthwiseInitializer: this.convInit(), name })
      .apply(x) as Sym;
  }

  /**
   * tf.layers 'same' is TensorFlow SAME (extra pixel bottom/right for stride 2), which is what
   * Keras' ZeroPadding2D(correct_pad) + 'valid' computes. Stride 1 with odd kernels pads k//2 on
   * both sides either way; only stride 2 in 'symmetric' mode needs an explicit padding layer.
   */
  private padForStride(x: Sym, kernel: number, stride: number, name: string): Sym {
    if (stride === 1 || this.opts.padding === 'tf-same') return x;
    const p = Math.floor(kernel / 2);
    return tfl.layers.zeroPadding2d({ padding: [[p, p], [p, p]], name: `${name}_pad` }).apply(x) as Sym;
  }

  private convPadding(stride: number): 'same' | 'valid' {
    return stride !== 1 && this.opts.padding === 'symmetric' ? 'valid' : 'same';
  }

  private bn(x: Sym, name: string): Sym {
    return tfl.layers.batchNormalization({ axis: 3, momentum: this.plan.variant.bnMomentum, epsilon: this.opts.bnEpsilon, name }).apply(x) as Sym;
  }

  private act(x: Sym, name: string): Sym {
    return tfl.layers.activation({ activation: 'swish', name }).apply(x) as Sym;
  }

  /** Keras CONV_KERNEL_INITIALIZER: VarianceScaling(2.0, fan_out, truncated normal). */
  private convInit() {
    return tfl.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'truncatedNormal', seed: this.nextSeed() });
  }

  /** Distinct seed per layer: the same seed everywhere would give equal-shaped layers equal weights. */
  private nextSeed(): number | undefined {
    this.seedCounter += 1;
    return this.opts.seed === undefined ? undefined : this.opts.seed * 100_003 + this.seedCounter;
  }
}

function modelName(variant: VariantSpec): string {
  return `efficientnet_${variant.id.replace(/[^a-z0-9.]+/gi, '_')}`;
}

/** Trainable parameters of a built model (what the published counts measure). */
export function countTrainableParams(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}
