/**
 * ONNX export: real Effitune models (builder.ts) with seeded random weights and random BatchNorm
 * statistics, converted and run in onnxruntime-node, against the same model run by TF.js (wasm
 * backend: the app's inference backend without a GPU, and fast enough for 32 images of B0).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../main/backend/tfjs-backend';
import { samePads } from '../../main/inference/onnx/convert-layers';
import { MIN_QUANTIZED_ELEMENTS } from '../../main/inference/onnx/graph';
import { tfjsModelToOnnx } from '../../main/inference/onnx/index';
import { decodeModel } from '../../main/inference/onnx/onnx-proto';
import { quantizeUint8PerChannel, toFloat16Bits } from '../../main/inference/onnx/quantize';
import { buildEfficientNet } from '../../main/model/builder';
import type { BuildOptions } from '../../main/model/build-options';

const IMAGES = 32;
const CLASSES = 5;

beforeAll(async () => {
  await useBackend('wasm');
});

/** mulberry32: a small seeded generator, so every run sees the same weights and pixels */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const uniform = (random: () => number, n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * random());

/**
 * Seeded weights that make a model's answers depend on the image, with BatchNorm statistics far
 * from the fresh 0/1 so that folding them into convolutions is really exercised. Random statistics
 * alone wash the image out after a few blocks (every image then gets the same answer and any
 * comparison passes). So one eager inference pass over the test images sets each BatchNorm's
 * statistics to its input's actual moments, randomly perturbed (mean ± 0.3σ, variance × 0.5..2),
 * and scales and centres the classifier so the logits spread by about 2 between images. (A few
 * separate calibration images are not enough: at 1×1 feature maps their moments fit them alone.)
 * With `all`, kernels and biases are drawn too, for models whose initialisers are not seeded.
 */
function prepareWeights(model: tfl.LayersModel, seed: number, pixels: Float32Array, all = false): void {
  tf.tidy(() => calibrate(model, seed, pixels, all));
}

function calibrate(model: tfl.LayersModel, seed: number, pixels: Float32Array, all: boolean): void {
  const random = rng(seed);
  const [, height, width] = model.inputs[0].shape as number[];
  const values = new Map<number, tf.Tensor>([[model.inputs[0].id, tf.tensor4d(pixels, [IMAGES, height, width, 3])]]);
  const draw = (shape: number[], lo: number, hi: number) => tf.tensor(uniform(random, shape.reduce((a, b) => a * b, 1), lo, hi), shape);
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const node = layer.inboundNodes[0];
    const inputs = node.inputTensors.map((t) => values.get(t.id) as tf.Tensor);
    const shortNames = layer.weights.map((w) => w.originalName.slice(w.originalName.lastIndexOf('/') + 1));
    const shapes = layer.weights.map((w) => w.shape as number[]);
    const next: tf.Tensor[] = [];
    if (layer.getClassName() === 'BatchNormalization') {
      const x = inputs[0];
      const moments = tf.moments(x, x.shape.slice(0, -1).map((_, i) => i));
      shortNames.forEach((name, i) => {
        const c = shapes[i][0];
        if (name === 'gamma') next.push(draw([c], 0.5, 1.5));
        else if (name === 'beta') next.push(draw([c], -0.5, 0.5));
        else if (name === 'moving_mean') next.push(tf.add(moments.mean, tf.mul(tf.sqrt(moments.variance), draw([c], -0.3, 0.3))));
        else next.push(tf.mul(tf.add(moments.variance, 1e-3), draw([c], 0.5, 2)));
      });
    } else if (layer.name === 'predictions') {
      const kernel = draw(shapes[0], -1, 1);
      const logits = tf.matMul(inputs[0] as tf.Tensor2D, kernel as tf.Tensor2D);
      const { mean, variance } = tf.moments(logits, 0);
      const scale = 2 / tf.mean(tf.sqrt(variance)).dataSync()[0];
      // centred: what is common to all images must not decide the class
      next.push(tf.mul(kernel, scale), tf.mul(mean, -scale));
    } else if (all && layer.name !== 'preprocess') {
      shortNames.forEach((name, i) => {
        const fanIn = shapes[i].slice(0, -1).reduce((a, b) => a * b, 1);
        const a = name === 'bias' ? 0.2 : Math.sqrt(3 / fanIn);
        next.push(draw(shapes[i], -a, a));
      });
    }
    if (next.length > 0) layer.setWeights(next);
    const output = layer.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor;
    values.set(node.outputTensors[0].id, output);
  }
}

function randomPixels(seed: number, height: number, width: number): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: IMAGES * height * width * 3 }, () => Math.floor(random() * 256));
}

function tfPredict(model: tfl.LayersModel, pixels: Float32Array, height: number, width: number): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor4d(pixels, [IMAGES, height, width, 3])) as tf.Tensor).dataSync() as Float32Array);
}

async function onnxRun(bytes: Uint8Array, pixels: Float32Array, height: number, width: number): Promise<ort.Tensor> {
  // one thread each: the tests share two cores with everything else
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const result = await session.run({ pixels: new ort.Tensor('float32', pixels, [IMAGES, height, width, 3]) });
    return result.probabilities;
  } finally {
    await session.release();
  }
}

async function onnxPredict(bytes: Uint8Array, pixels: Float32Array, height: number, width: number): Promise<Float32Array> {
  const probabilities = await onnxRun(bytes, pixels, height, width);
  expect(probabilities.dims).toEqual([IMAGES, CLASSES]);
  return probabilities.data as Float32Array;
}

interface Agreement {
  maxDiff: number;
  sameTop1: number;
  meanTopProbability: number;
  /** how many different classes TF.js predicts over the images */
  classesPredicted: number;
}

function compare(expected: Float32Array, actual: Float32Array): Agreement {
  let maxDiff = 0;
  let sameTop1 = 0;
  let topSum = 0;
  const predicted = new Set<number>();
  for (let n = 0; n < IMAGES; n++) {
    let a = 0;
    let b = 0;
    for (let c = 0; c < CLASSES; c++) {
      const i = n * CLASSES + c;
      maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
      if (expected[i] > expected[n * CLASSES + a]) a = c;
      if (actual[i] > actual[n * CLASSES + b]) b = c;
    }
    if (a === b) sameTop1++;
    topSum += expected[n * CLASSES + a];
    predicted.add(a);
  }
  return { maxDiff, sameTop1, meanTopProbability: topSum / IMAGES, classesPredicted: predicted.size };
}

type Graph = { node: Array<{ op_type: string; name: string; attribute?: Array<{ name: string; ints?: number[] }> }>; input: any[]; output: any[] };

function graphOf(bytes: Uint8Array): { opset: number; graph: Graph } {
  const model = decodeModel(bytes) as { opset_import: Array<{ domain?: string; version: number }>; graph: Graph };
  return { opset: Math.max(...model.opset_import.filter((o) => !o.domain).map((o) => o.version)), graph: model.graph };
}

function dimsOf(value: any): Array<number | string> {
  return value.type.tensor_type.shape.dim.map((d: any) => d.dim_value ?? d.dim_param);
}

function padsOf(graph: Graph, nodeName: string): number[] | undefined {
  return graph.node.find((n) => n.name === nodeName)?.attribute?.find((a) => a.name === 'pads')?.ints;
}

/** The B0 round trip, made once: the float32 check and the quantized files share it. */
let b0Trip: ReturnType<typeof roundTrip> | undefined;
const b0 = () => (b0Trip ??= roundTrip('b0', 64, {}, 17));

/** A builder model with seeded weights and random BN statistics, its ONNX file, and both predictions. */
async function roundTrip(variant: string, resolution: number, options: BuildOptions = {}, seed = 7) {
  const model = buildEfficientNet(variant, { classes: CLASSES, resolution, seed, ...options });
  const pixels = randomPixels(seed + 1, resolution, resolution);
  prepareWeights(model, seed, pixels);
  const expected = tfPredict(model, pixels, resolution, resolution);
  const bytes = await tfjsModelToOnnx(model);
  const agreement = compare(expected, await onnxPredict(bytes, pixels, resolution, resolution));
  console.log(`${variant} ${resolution} px ${options.padding ?? 'tf-same'}: max |Δp| ${agreement.maxDiff.toExponential(2)}, top-1 agreement ${agreement.sameTop1}/${IMAGES}, ${agreement.classesPredicted} classes predicted, mean top-1 p ${agreement.meanTopProbability.toFixed(2)}`);
  return { model, bytes, pixels, expected, agreement };
}

function expectSameAnswers(agreement: Agreement): void {
  expect(agreement.maxDiff).toBeLessThanOrEqual(1e-4);
  expect(agreement.sameTop1).toBe(IMAGES);
  // answers that are all alike or a saturated softmax (all 0/1) would agree trivially
  expect(agreement.classesPredicted).toBeGreaterThanOrEqual(3);
  expect(agreement.meanTopProbability).toBeLessThan(0.95);
}

describe('TF SAME padding', () => {
  it('puts the extra pixel at the bottom/right, like TensorFlow', () => {
    expect(samePads(64, 3, 2, 1)).toEqual([0, 1]);
    expect(samePads(33, 3, 2, 1)).toEqual([1, 1]);
    expect(samePads(8, 5, 2, 1)).toEqual([1, 2]);
    expect(samePads(7, 3, 1, 2)).toEqual([2, 2]);
    expect(samePads(5, 1, 2, 1)).toEqual([0, 0]);
  });
});

describe('EfficientNet models give the same answers in onnxruntime as in TF.js', () => {
  const models: tfl.LayersModel[] = [];
  afterAll(() => models.forEach((m) => m.dispose()));

  it('tiny φ = −8 at 32 px (asymmetric SAME pads): file structure, names, shapes, opset', async () => {
    const { model, bytes, agreement } = await roundTrip('phi=-8', 32);
    models.push(model);
    expectSameAnswers(agreement);
    const { opset, graph } = graphOf(bytes);
    expect(opset).toBe(13);
    expect(graph.input.map((v) => v.name)).toEqual(['pixels']);
    expect(dimsOf(graph.input[0])).toEqual(['batch', 32, 32, 3]);
    expect(graph.input[0].type.tensor_type.elem_type).toBe(1);
    expect(graph.output.map((v) => v.name)).toEqual(['probabilities']);
    expect(dimsOf(graph.output[0])).toEqual(['batch', CLASSES]);
    // one transpose (the input), BatchNorm folded into every conv, softmax last
    const ops = graph.node.map((n) => n.op_type);
    expect(ops.filter((o) => o === 'Transpose')).toHaveLength(1);
    expect(ops).not.toContain('BatchNormalization');
    expect(ops.at(-1)).toBe('Softmax');
    expect(padsOf(graph, 'stem_conv_bn')).toEqual([0, 0, 1, 1]);
  });

  it('tiny φ = −8 at 33 px (odd size: symmetric SAME pads)', async () => {
    const { model, bytes, agreement } = await roundTrip('phi=-8', 33, {}, 11);
    models.push(model);
    expectSameAnswers(agreement);
    expect(padsOf(graphOf(bytes).graph, 'stem_conv_bn')).toEqual([1, 1, 1, 1]);
  });

  it('symmetric-padding mode (timm): ZeroPadding2D folded into the convolutions', async () => {
    const { model, bytes, agreement } = await roundTrip('phi=-8', 32, { padding: 'symmetric', bnEpsilon: 1e-5 }, 13);
    models.push(model);
    expect(model.layers.some((l) => l.getClassName() === 'ZeroPadding2D')).toBe(true);
    expectSameAnswers(agreement);
    const { graph } = graphOf(bytes);
    expect(graph.node.map((n) => n.op_type)).not.toContain('Pad');
    expect(padsOf(graph, 'stem_conv_bn')).toEqual([1, 1, 1, 1]);
  });

  it('B0 at 64 px: every V1 block kind (expand 1 and 6, k3/k5, stride 2, SE, residual with stochastic depth)', async () => {
    const { model, agreement } = await b0();
    expect(model.layers.some((l) => l.getClassName() === 'Dropout' && l.name.endsWith('_drop'))).toBe(true);
    expectSameAnswers(agreement);
  });

  it('V2-B0 at 64 px: fused MBConv blocks', async () => {
    const { model, agreement } = await roundTrip('v2-b0', 64, {}, 19);
    models.push(model);
    expect(model.layers.some((l) => l.name.startsWith('block1a_project_conv'))).toBe(true);
    expectSameAnswers(agreement);
  });

  it('opset 21 runs too; opsets below 13 are refused', async () => {
    const model = buildEfficientNet('phi=-8', { classes: CLASSES, resolution: 32, seed: 3 });
    models.push(model);
    const pixels = randomPixels(4, 32, 32);
    prepareWeights(model, 3, pixels);
    const bytes = await tfjsModelToOnnx(model, { opset: 21, producerVersion: '9.9.9' });
    expect(graphOf(bytes).opset).toBe(21);
    expect((decodeModel(bytes) as { producer_version: string }).producer_version).toBe('9.9.9');
    expectSameAnswers(compare(tfPredict(model, pixels, 32, 32), await onnxPredict(bytes, pixels, 32, 32)));
    await expect(tfjsModelToOnnx(model, { opset: 12 })).rejects.toThrow(/opset must be a whole number from 13/);
  });
});

describe('quantized files (the B0 above)', () => {
  afterAll(async () => (await b0()).model.dispose());

  // random weights are harsher on uint8 than trained ones (no bound on its probability error here)
  it.each([
    ['float16', 0.5, 0.05, 0.9],
    ['uint8', 0.25, Infinity, 0.75],
  ] as const)('%s: about %s of the float32 size, still the same top-1 on most images', async (quantize, ratio, maxDiff, minTop1) => {
    const { model, pixels, expected, bytes: float32 } = await b0();
    const float32Size = float32.length;
    const bytes = await tfjsModelToOnnx(model, { quantize });
    const agreement = compare(expected, await onnxPredict(bytes, pixels, 64, 64));
    const measured = bytes.length / float32Size;
    console.log(`${quantize}: ${bytes.length} bytes = ${measured.toFixed(3)} of float32 (${float32Size}); max |Δp| ${agreement.maxDiff.toExponential(2)}; top-1 agreement ${agreement.sameTop1}/${IMAGES}`);
    expect(measured).toBeGreaterThan(ratio * 0.95);
    expect(measured).toBeLessThan(ratio * 1.1);
    expect(agreement.maxDiff).toBeLessThan(maxDiff);
    expect(agreement.sameTop1).toBeGreaterThanOrEqual(Math.ceil(minTop1 * IMAGES));
    const ops = graphOf(bytes).graph.node.map((n) => n.op_type);
    expect(ops).toContain(quantize === 'float16' ? 'Cast' : 'DequantizeLinear');
  });

  it('float16 rounds to nearest even, keeps subnormals, overflows to infinity', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00);
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(2 ** -14)).toBe(0x0400);
    expect(toFloat16Bits(0.1)).toBe(0x2e66);
    expect(toFloat16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
  });

  it('uint8 is per output channel, keeps 0 exact and errs by at most half a step', () => {
    const values = Float32Array.from([-1, 0, 0.5, 1, /* channel 1 */ 0, 0.001, 0.002, 0.004, /* channel 2 */ 0, 0, 0, 0]);
    const q = quantizeUint8PerChannel(values, [3, 4], 0);
    for (let i = 0; i < values.length; i++) {
      const c = Math.floor(i / 4);
      const back = (q.values[i] - q.zeroPoint[c]) * q.scale[c];
      expect(Math.abs(back - values[i])).toBeLessThanOrEqual(q.scale[c] / 2 + 1e-9);
      if (values[i] === 0) expect(back).toBe(0);
    }
    expect(q.scale[1]).toBeCloseTo(0.004 / 255, 9); // its own range, not channel 0's
  });

  it('small weights (the preprocessing constants, biases) stay float32 in a quantized file', async () => {
    const { model } = await b0();
    const file = decodeModel(await tfjsModelToOnnx(model, { quantize: 'uint8' })) as { graph: { initializer: Array<{ name: string; data_type: number; dims: number[] }> } };
    const byName = new Map(file.graph.initializer.map((t) => [t.name, t]));
    expect(byName.get('preprocess_weight')?.data_type).toBe(1);
    expect(byName.get('stem_conv_bias')?.data_type).toBe(1);
    expect(byName.get('stem_conv_weight_uint8')?.data_type).toBe(2);
    for (const t of file.graph.initializer) {
      const size = t.dims.reduce((a, b) => a * b, 1);
      if (t.data_type === 1 && t.name.endsWith('_weight')) expect(size, t.name).toBeLessThan(MIN_QUANTIZED_ELEMENTS);
    }
  });
});

describe('layers beyond the builder’s usual path', () => {
  /**
   * A non-square model with a ZeroPadding2D read by two layers (a real Pad), a BatchNorm after an Add
   * and one after a Dense (ONNX BatchNormalization), a folded BN without γ/β, a dilated convolution,
   * depthwise with multiplier 2, n-ary merges, Reshape/Flatten of real images (Transpose back), softmax over
   * image channels, and every supported activation.
   */
  function assortedModel(): tfl.LayersModel {
    const L = tfl.layers;
    const input = tfl.input({ shape: [20, 27, 3], name: 'pixels' });
    const a = L.rescaling({ scale: 1 / 127.5, offset: -1, name: 'rescale' }).apply(input) as tfl.SymbolicTensor;
    const p = L.zeroPadding2d({ padding: [[1, 1], [0, 3]], name: 'pad_shared' }).apply(a) as tfl.SymbolicTensor;
    const m = L.activation({ activation: 'tanh', name: 'tanh' }).apply(p) as tfl.SymbolicTensor;
    const c1 = L.conv2d({ filters: 6, kernelSize: [3, 5], strides: 2, padding: 'same', name: 'conv_a' }).apply(p) as tfl.SymbolicTensor;
    const c2 = L.conv2d({ filters: 6, kernelSize: [3, 5], dilationRate: [2, 3], padding: 'same', activation: 'hardSigmoid', name: 'conv_b' }).apply(m) as tfl.SymbolicTensor;
    const c2s = L.conv2d({ filters: 6, kernelSize: 1, strides: 2, name: 'conv_b_stride' }).apply(c2) as tfl.SymbolicTensor;
    const s = L.add({ name: 'add2' }).apply([c1, c2s]) as tfl.SymbolicTensor;
    const bn = L.batchNormalization({ name: 'bn_after_add' }).apply(s) as tfl.SymbolicTensor;
    const d = L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'selu', name: 'dw' }).apply(bn) as tfl.SymbolicTensor;
    const act = (name: string, x: tfl.SymbolicTensor) => L.activation({ activation: name as 'relu', name: `act_${name}` }).apply(x) as tfl.SymbolicTensor;
    const av = L.average({ name: 'average3' }).apply([d, act('softplus', d), act('softmax', d)]) as tfl.SymbolicTensor;
    const mx = L.maximum({ name: 'maximum' }).apply([d, act('softsign', d)]) as tfl.SymbolicTensor;
    const mn = L.minimum({ name: 'minimum' }).apply([d, act('elu', d)]) as tfl.SymbolicTensor;
    const sum = L.add({ name: 'add3' }).apply([av, mx, mn]) as tfl.SymbolicTensor;
    const z = L.zeroPadding2d({ padding: 1, name: 'pad_folded' }).apply(sum) as tfl.SymbolicTensor;
    const c3 = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'conv_c' }).apply(z) as tfl.SymbolicTensor;
    const bn2 = L.batchNormalization({ center: false, scale: false, name: 'bn_folded_plain' }).apply(c3) as tfl.SymbolicTensor;
    const sw = act('swish', bn2);
    const flat = L.flatten({ name: 'flatten' }).apply(sw) as tfl.SymbolicTensor;
    const f = L.dense({ units: 16, activation: 'relu', name: 'dense_relu' }).apply(flat) as tfl.SymbolicTensor;
    const fbn = L.batchNormalization({ name: 'bn_vector' }).apply(f) as tfl.SymbolicTensor;
    const pooled = L.globalMaxPooling2d({ name: 'gmp' }).apply(sw) as tfl.SymbolicTensor;
    const g = L.dense({ units: 16, activation: 'relu6', name: 'dense_relu6' }).apply(pooled) as tfl.SymbolicTensor;
    const prod = L.multiply({ name: 'multiply3' }).apply([fbn, g, act('sigmoid', g)]) as tfl.SymbolicTensor;
    const img = L.reshape({ targetShape: [2, 4, 2], name: 'to_image' }).apply(prod) as tfl.SymbolicTensor;
    const imgConv = L.conv2d({ filters: 3, kernelSize: 1, name: 'conv_small' }).apply(img) as tfl.SymbolicTensor;
    const rows = L.reshape({ targetShape: [8, 3], name: 'to_rows' }).apply(imgConv) as tfl.SymbolicTensor;
    const ls = act('logSoftmax', rows);
    const flat2 = L.flatten({ name: 'flatten_rows' }).apply(ls) as tfl.SymbolicTensor;
    const drop = L.dropout({ rate: 0.5, name: 'drop' }).apply(flat2) as tfl.SymbolicTensor;
    const out = L.dense({ units: CLASSES, activation: 'softmax', name: 'predictions' }).apply(drop) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: out, name: 'assorted' });
  }

  let model: tfl.LayersModel;
  let pixels: Float32Array;
  beforeAll(() => {
    model = assortedModel();
    pixels = randomPixels(30, 20, 27);
    prepareWeights(model, 29, pixels, true);
  });
  afterAll(() => model.dispose());

  it('converts them all with the same answers (non-square 20×27 input)', async () => {
    const expected = tfPredict(model, pixels, 20, 27);
    const bytes = await tfjsModelToOnnx(model);
    expectSameAnswers(compare(expected, await onnxPredict(bytes, pixels, 20, 27)));
    const ops = graphOf(bytes).graph.node.map((n) => n.op_type);
    expect(ops.filter((o) => o === 'Pad')).toHaveLength(1); // pad_shared is materialized, pad_folded is not
    expect(ops.filter((o) => o === 'BatchNormalization')).toHaveLength(2); // bn_after_add, bn_vector
    expect(padsOf(graphOf(bytes).graph, 'conv_a')).toEqual([0, 1, 1, 2]); // SAME on 22×30, stride 2, kernel 3×5
  });

  it('every intermediate value agrees too (a softmax at the end can hide a wrong layer)', async () => {
    for (const layer of model.layers.slice(1)) {
      const probe = tfl.model({ inputs: model.inputs, outputs: layer.output as tfl.SymbolicTensor });
      const expected = tfPredict(probe, pixels, 20, 27);
      const actual = await onnxRun(await tfjsModelToOnnx(probe), pixels, 20, 27);
      expect(actual.dims, layer.name).toEqual([IMAGES, ...(layer.outputShape as number[]).slice(1)]);
      let maxDiff = 0;
      let magnitude = 0;
      for (let i = 0; i < expected.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(expected[i] - (actual.data as Float32Array)[i]));
        magnitude = Math.max(magnitude, Math.abs(expected[i]));
      }
      expect(maxDiff, layer.name).toBeLessThanOrEqual(1e-5 * Math.max(1, magnitude));
    }
  });

  it('an unsupported layer or activation is an error naming the layer and its class', async () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const pooled = tfl.layers.maxPooling2d({ poolSize: 2, name: 'my_pool' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.flatten().apply(pooled) as tfl.SymbolicTensor });
    await expect(tfjsModelToOnnx(model)).rejects.toThrow(/layer "my_pool" \(MaxPooling2D\) cannot be exported to ONNX/);

    const input2 = tfl.input({ shape: [4] });
    const gelu = tfl.layers.dense({ units: 2, activation: 'gelu', name: 'gelu_dense' }).apply(input2) as tfl.SymbolicTensor;
    await expect(tfjsModelToOnnx(tfl.model({ inputs: input2, outputs: gelu }))).rejects.toThrow(/layer "gelu_dense" \(Dense\).*activation "gelu"/);

    // tf.layers' DepthwiseConv2D ignores dilationRate (Keras does not): either answer would be wrong somewhere
    const input3 = tfl.input({ shape: [8, 8, 3] });
    const dilated = tfl.layers.depthwiseConv2d({ kernelSize: 3, dilationRate: 2, name: 'dilated_dw' }).apply(input3) as tfl.SymbolicTensor;
    await expect(tfjsModelToOnnx(tfl.model({ inputs: input3, outputs: dilated }))).rejects.toThrow(/layer "dilated_dw" \(DepthwiseConv2D\).*dilationRate/);
    model.dispose();
  });
});
