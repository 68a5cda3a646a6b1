/**
 * Builds EfficientNet V1/V2 as tf.layers functional models: the network recipe (recipe.ts) walks
 * the ArchitecturePlan, with Keras' layer names so Keras weights map by name, and each of its steps
 * becomes a tf.layers layer here, with Keras' initialisers.
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
import { resolveBuildOptions, type BuildOptions } from './build-options';
import { walkNetwork, type ConvLayer, type DepthwiseLayer, type LayerOps } from './recipe';
import { getVariant, planArchitecture, type Preprocessing, type VariantSpec } from './variants';

/** Build a fresh, randomly initialised model (Keras initialisers) for a variant or variant id. */
export function buildEfficientNet(variantOrId: VariantSpec | string, options: BuildOptions = {}): tfl.LayersModel {
  const variant = typeof variantOrId === 'string' ? getVariant(variantOrId) : variantOrId;
  const opts = resolveBuildOptions(variant, options);
  const layers = new TfLayers(opts.seed);
  const output = walkNetwork(planArchitecture(variant, opts.dropConnect), opts, layers);
  const model = tfl.model({ inputs: layers.modelInput(), outputs: output, name: modelName(variant) });
  layers.setPreprocessing(opts.preprocessing);
  return model;
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

/** The recipe's steps as stock tf.layers layers, with Keras' initialisers. */
class TfLayers implements LayerOps<Sym> {
  private seedCounter = 0;
  private inputTensor: Sym | null = null;
  private preprocessLayer: tfl.layers.Layer | null = null;

  constructor(private readonly seed: number | undefined) {}

  input(name: string, shape: readonly [number, number, number]): Sym {
    this.inputTensor = tfl.input({ shape: [...shape], name });
    return this.inputTensor;
  }

  preprocess(x: Sym, name: string): Sym {
    this.preprocessLayer = tfl.layers.depthwiseConv2d({ kernelSize: 1, useBias: true, trainable: false, name });
    return this.preprocessLayer.apply(x) as Sym;
  }

  pad(x: Sym, pad: number, name: string): Sym {
    return tfl.layers.zeroPadding2d({ padding: [[pad, pad], [pad, pad]], name }).apply(x) as Sym;
  }

  conv(x: Sym, c: ConvLayer): Sym {
    const { name, filters, kernel, stride, padding, useBias, activation } = c;
    return tfl.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding, useBias, activation, kernelInitializer: this.convInit(), name }).apply(x) as Sym;
  }

  depthwise(x: Sym, c: DepthwiseLayer): Sym {
    const { name, kernel, stride, padding } = c;
    return tfl.layers.depthwiseConv2d({ kernelSize: kernel, strides: stride, padding, useBias: false, depthwiseInitializer: this.convInit(), name }).apply(x) as Sym;
  }

  batchNorm(x: Sym, name: string, momentum: number, epsilon: number): Sym {
    return tfl.layers.batchNormalization({ axis: 3, momentum, epsilon, name }).apply(x) as Sym;
  }

  swish(x: Sym, name: string): Sym {
    return tfl.layers.activation({ activation: 'swish', name }).apply(x) as Sym;
  }

  globalPool(x: Sym, pooling: 'avg' | 'max', name: string): Sym {
    const layer = pooling === 'avg' ? tfl.layers.globalAveragePooling2d({ name }) : tfl.layers.globalMaxPooling2d({ name });
    return layer.apply(x) as Sym;
  }

  reshape(x: Sym, shape: readonly [number, number, number], name: string): Sym {
    return tfl.layers.reshape({ targetShape: [...shape], name }).apply(x) as Sym;
  }

  multiply(x: Sym, y: Sym, name: string): Sym {
    return tfl.layers.multiply({ name }).apply([x, y]) as Sym;
  }

  add(x: Sym, y: Sym, name: string): Sym {
    return tfl.layers.add({ name }).apply([x, y]) as Sym;
  }

  dropout(x: Sym, rate: number, name: string): Sym {
    return tfl.layers.dropout({ rate, name }).apply(x) as Sym;
  }

  /** Dropout with noiseShape [batch, 1, 1, 1]: drops the whole branch per sample in training, identity in inference. */
  dropBranch(x: Sym, rate: number, name: string): Sym {
    return tfl.layers.dropout({ rate, noiseShape: [null, 1, 1, 1] as unknown as number[], name }).apply(x) as Sym;
  }

  dense(x: Sym, units: number, activation: 'softmax' | 'linear', name: string): Sym {
    const kernelInitializer = tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanOut', distribution: 'uniform', seed: this.nextSeed() });
    return tfl.layers.dense({ units, activation, kernelInitializer, name }).apply(x) as Sym;
  }

  modelInput(): Sym {
    if (!this.inputTensor) throw new Error('the recipe made no input layer');
    return this.inputTensor;
  }

  /** Load the normalisation constants into the preprocess layer and freeze it. */
  setPreprocessing(p: Preprocessing): void {
    const layer = this.preprocessLayer;
    if (!layer) throw new Error('the recipe made no preprocess layer');
    const { kernel, bias } = preprocessWeights(p);
    tf.tidy(() => layer.setWeights([tf.tensor4d(kernel, [1, 1, 3, 1]), tf.tensor1d(bias)]));
    // the constructor's trainable:false keeps the layer out of trainableWeights, but its variables
    // are created trainable; the setter freezes them too, so no optimizer or tf.variableGrads touches them
    layer.trainable = false;
  }

  /** Keras CONV_KERNEL_INITIALIZER: VarianceScaling(2.0, fan_out, truncated normal). */
  private convInit() {
    return tfl.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'truncatedNormal', seed: this.nextSeed() });
  }

  /** Distinct seed per layer: the same seed everywhere would give equal-shaped layers equal weights. */
  private nextSeed(): number | undefined {
    this.seedCounter += 1;
    return this.seed === undefined ? undefined : this.seed * 100_003 + this.seedCounter;
  }
}

function modelName(variant: VariantSpec): string {
  return `efficientnet_${variant.id.replace(/[^a-z0-9.]+/gi, '_')}`;
}

/** Trainable parameters of a built model (what the published counts measure). */
export function countTrainableParams(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}
