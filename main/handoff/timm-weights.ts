/**
 * Our tf.layers EfficientNet (V1) ↔ a timm state dict, both ways:
 *   modelToTimm: every weight of a built model under its timm name, in PyTorch's layout
 *     (conv [kh,kw,in,out] → [out,in,kh,kw], depthwise [kh,kw,c,1] → [c,1,kh,kw], dense [in,out] → [out,in]);
 *   fillFromTimm: a timm .safetensors read by the existing reader and renamed by the existing
 *     timm mapping (model/weights/timm.ts timmToKeras), checked weight by weight against the model.
 * The names are the inverse of timm.ts' tables; a block with expand ratio 1 is timm's
 * DepthwiseSeparableConv, any other InvertedResidual (timm.ts tells them apart by conv_pwl).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../contract/contract';
import { PREPROCESS_LAYER, type BuildOptions } from '../model/build-options';
import { describeLayers } from '../model/layers';
import { planArchitecture, type VariantSpec } from '../model/variants';
import { readSafetensors } from '../model/weights/safetensors';
import { formatShape, sameShape } from '../model/weights/tensors';
import { timmToKeras } from '../model/weights/timm';
import type { NamedFloatTensor } from './safetensors-writer';

const BN: Record<string, string> = { gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var' };
const TOP: Record<string, string> = { stem_conv: 'conv_stem', stem_bn: 'bn1', top_conv: 'conv_head', top_bn: 'bn2' };
const INVERTED: Record<string, string> = { expand_conv: 'conv_pw', expand_bn: 'bn1', dwconv: 'conv_dw', bn: 'bn2', project_conv: 'conv_pwl', project_bn: 'bn3' };
const SEPARABLE: Record<string, string> = { dwconv: 'conv_dw', bn: 'bn1', project_conv: 'conv_pw', project_bn: 'bn2' };

/** timm name of a Keras layer's weight, or null for a layer timm does not have (preprocess). */
export function timmNameOf(layer: string, weight: string, separableBlocks: ReadonlySet<string>): string | null {
  if (layer === PREPROCESS_LAYER) return null;
  if (layer === 'predictions') return `classifier.${weight === 'kernel' ? 'weight' : 'bias'}`;
  const block = /^block(\d+)([a-z])_(.+)$/.exec(layer);
  const param = (module: string) => `${module}.${BN[weight] ?? (weight === 'bias' ? 'bias' : 'weight')}`;
  if (!block) return TOP[layer] ? param(TOP[layer]) : null;
  const [, stage, repeat, part] = block;
  const prefix = `blocks.${Number(stage) - 1}.${repeat.charCodeAt(0) - 97}`;
  if (part === 'se_reduce' || part === 'se_expand') return `${prefix}.se.conv_${part.slice(3)}.${weight === 'bias' ? 'bias' : 'weight'}`;
  const module = (separableBlocks.has(`block${stage}${repeat}`) ? SEPARABLE : INVERTED)[part];
  return module ? `${prefix}.${param(module)}` : null;
}

/** The blocks timm builds as DepthwiseSeparableConv: V1 blocks without expansion. */
export function separableBlocksOf(variant: VariantSpec): Set<string> {
  if (variant.family !== 'v1') throw new ApiError('invalid_input', `${variant.name}: the PyTorch hand-off trains EfficientNet V1 and custom φ models; V2's fused blocks have no timm naming in Effitune yet`);
  return new Set(planArchitecture(variant).blocks.filter((b) => b.expand === 1).map((b) => b.name));
}

/** Every weight of `model` (built for `variant` with `options`) as a timm tensor in PyTorch layout. */
export function modelToTimm(model: tfl.LayersModel, variant: VariantSpec, options: BuildOptions): NamedFloatTensor[] {
  const separable = separableBlocksOf(variant);
  const out: NamedFloatTensor[] = [];
  for (const layer of describeLayers(variant, options)) {
    if (layer.weights.length === 0 || layer.name === PREPROCESS_LAYER) continue;
    const values = model.getLayer(layer.name).getWeights();
    layer.weights.forEach((w, i) => {
      const name = timmNameOf(layer.name, w.name, separable);
      if (!name) throw new ApiError('internal', `weight ${layer.name}/${w.name} has no timm name`);
      const data = values[i].dataSync() as Float32Array;
      out.push({ name, ...toTorchLayout(layer.kind, data, values[i].shape) });
    });
  }
  return out;
}

function toTorchLayout(kind: string, data: Float32Array, shape: readonly number[]): { shape: number[]; data: Float32Array } {
  if (shape.length === 1) return { shape: [...shape], data: Float32Array.from(data) };
  if (shape.length === 2) {
    const [i, o] = shape;
    const dst = new Float32Array(data.length);
    for (let r = 0; r < i; r++) for (let c = 0; c < o; c++) dst[c * i + r] = data[r * o + c];
    return { shape: [o, i], data: dst };
  }
  const [kh, kw, ci, co] = shape;
  const dst = new Float32Array(data.length);
  if (kind === 'depthwise') {
    // [kh, kw, c, 1] → [c, 1, kh, kw]
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let c = 0; c < ci; c++) dst[(c * kh + y) * kw + x] = data[(y * kw + x) * ci + c];
    return { shape: [ci, 1, kh, kw], data: dst };
  }
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let a = 0; a < ci; a++) for (let b = 0; b < co; b++) dst[((b * ci + a) * kh + y) * kw + x] = data[((y * kw + x) * ci + a) * co + b];
    }
  }
  return { shape: [co, ci, kh, kw], data: dst };
}

/**
 * Fill a freshly built model with a timm .safetensors (e.g. a bundle's final weights): read by the
 * existing reader, renamed by timm.ts, every weight the model has must be there with its shape and
 * every tensor of the file must have a place. Returns how many tensors were loaded.
 */
export function fillFromTimm(model: tfl.LayersModel, variant: VariantSpec, options: BuildOptions, file: string): number {
  const st = readSafetensors(file);
  const weights = timmToKeras(st.tensors, file);
  const used = new Set<string>();
  const plan: [string, tf.Tensor[]][] = [];
  for (const layer of describeLayers(variant, options)) {
    if (layer.weights.length === 0 || layer.name === PREPROCESS_LAYER) continue;
    const tensors = layer.weights.map((w) => {
      const key = `${layer.name}/${w.name}`;
      const t = weights.get(key);
      if (!t) throw new ApiError('invalid_input', `${file} lacks "${key}" that ${variant.name} needs (is it the weights of another model?)`);
      if (!sameShape(t.shape, w.shape)) throw new ApiError('invalid_input', `tensor "${t.source}" in ${file} has shape ${formatShape(t.sourceShape ?? t.shape)}, ${variant.name} needs ${formatShape(t.toSourceShape?.(w.shape) ?? w.shape)}`);
      used.add(key);
      return tf.tensor(t.data, [...t.shape]);
    });
    plan.push([layer.name, tensors]);
  }
  const extra = [...weights.keys()].filter((k) => !used.has(k));
  if (extra.length > 0) {
    tf.dispose(plan.flatMap(([, ts]) => ts));
    throw new ApiError('invalid_input', `tensor "${weights.get(extra[0])!.source}" in ${file} has no place in ${variant.name}`);
  }
  for (const [layer, tensors] of plan) {
    model.getLayer(layer).setWeights(tensors);
    tf.dispose(tensors);
  }
  return used.size;
}
