/**
 * Pretrained weight import: a Keras .h5 (keras applications layout) or a timm .safetensors file
 * becomes a tf.layers EfficientNet whose outputs match the source framework's.
 *
 * Everything is checked before a model exists: every weight the model needs is in the file with
 * the right shape, and every tensor in the file has a place in the model. Only then is the model
 * built and filled, so a caller gets a complete model or an ApiError naming the tensor — never a
 * half-loaded one.
 */
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ApiError } from '../../contract/contract';
import { PREPROCESS_LAYER, type BuildOptions } from '../build-options';
import { buildEfficientNet } from '../builder';
import { describeLayers } from '../layers';
import { getVariant, IMAGENET_STD, NAMED_VARIANTS, type Preprocessing, type VariantSpec } from '../variants';
import { isHdf5, readKerasH5, type KerasWeights } from './keras-h5';
import { readSafetensors } from './safetensors';
import { formatShape, sameShape, type FileTensor } from './tensors';
import { resolveTimmArchitecture, timmToKeras } from './timm';

export interface ImportWeightsOptions {
  file: string;
  /** variant id ("b0", "v2-s", …); inferred from the file's tensor shapes (or timm name) when omitted */
  variant?: string;
  /** classifier size; default the file's. A different count (or a _notop file) gets a new head */
  classes?: number;
  /** false: a feature extractor without pooling/classifier */
  includeTop?: boolean;
  /** input size; default the variant's. Weights do not depend on it */
  resolution?: number;
  /** .safetensors only: timm architecture name, e.g. "tf_efficientnet_b0" or "efficientnet_b0.ra_in1k" */
  timmModel?: string;
  /** seeds the initialisation of a new classifier head */
  seed?: number;
}

export interface ImportedModel {
  model: tfl.LayersModel;
  variant: VariantSpec;
  format: 'keras-h5' | 'timm-safetensors';
  /** the options the model was built with; rebuilding with them gives the same architecture */
  buildOptions: BuildOptions;
  /** classifier size, null without top */
  classes: number | null;
  /** true when the classifier weights came from the file, false when the head is new */
  headLoaded: boolean;
  tensorsLoaded: number;
  /** decisions taken on the way, in words (normalisation found, new head, padding mode, …) */
  notes: string[];
}

interface SourceWeights {
  format: ImportedModel['format'];
  /** Keras "layer/weight" → tensor in TF.js layout */
  weights: Map<string, FileTensor>;
  buildOptions: Pick<BuildOptions, 'padding' | 'bnEpsilon' | 'preprocessing'>;
  /** variant the file's own metadata names (timm architecture), if any */
  variantHint: { id: string; from: string } | null;
  notes: string[];
}

const HDF5_EXTENSIONS = /\.(h5|hdf5)$/i;

export async function importWeights(options: ImportWeightsOptions): Promise<ImportedModel> {
  const { file } = options;
  if (!fs.existsSync(file)) throw new ApiError('not_found', `weights file ${file} does not exist`);
  if (fs.statSync(file).isDirectory()) throw new ApiError('invalid_input', `${file} is a folder, expected a .h5 or .safetensors file`);
  if (/\.keras$/i.test(file)) throw new ApiError('invalid_input', `${file} is a Keras 3 .keras archive; Effitune reads Keras 2 .h5 weight files (like keras applications' efficientnetb0.h5) and timm .safetensors`);
  const source = isHdf5(file) || HDF5_EXTENSIONS.test(file) ? kerasSource(await readKerasH5(file)) : timmSource(file, options.timmModel);

  const variant = chooseVariant(source, options.variant, file);
  const fileClasses = source.weights.get('predictions/kernel')?.shape[1];
  const includeTop = options.includeTop ?? true;
  const classes = includeTop ? (options.classes ?? fileClasses) : undefined;
  if (includeTop && classes === undefined) {
    throw new ApiError('invalid_input', `${file} has no classifier (a "notop" file): give the number of classes for the new head`);
  }
  const headLoaded = includeTop && classes === fileClasses;
  const buildOptions: BuildOptions = { ...source.buildOptions, classes, includeTop, resolution: options.resolution, seed: options.seed };
  const plan = matchWeights(source, variant, buildOptions, headLoaded, file);

  const notes = [...source.notes];
  if (includeTop && !headLoaded) {
    notes.push(fileClasses === undefined ? `new ${classes}-class head (the file has no classifier)` : `new ${classes}-class head (the file's classifier has ${fileClasses} classes)`);
  }
  const model = buildEfficientNet(variant, buildOptions);
  try {
    tf.tidy(() => {
      for (const [layer, tensors] of plan) model.getLayer(layer).setWeights(tensors.map((t) => tf.tensor(t.data, [...t.shape])));
    });
  } catch (err) {
    model.dispose();
    throw new ApiError('internal', `could not fill the model with the weights of ${file}: ${(err as Error).message}`);
  }
  return {
    model,
    variant,
    format: source.format,
    buildOptions,
    classes: classes ?? null,
    headLoaded,
    tensorsLoaded: [...plan.values()].reduce((n, ts) => n + ts.length, 0),
    notes,
  };
}

// ---------- Keras .h5 ----------

const NORMALIZATION_LAYER = /^normalization(_\d+)?$/;

function kerasSource(file: KerasWeights): SourceWeights {
  const weights = new Map<string, FileTensor>();
  const notes: string[] = [];
  let preprocessing: Preprocessing | undefined;
  for (const [layer, layerWeights] of file.layers) {
    if (layerWeights.size === 0) continue; // pads, activations, pooling, rescaling: nothing to load
    if (NORMALIZATION_LAYER.test(layer)) {
      const found = kerasNormalization(layer, layerWeights, file.path);
      preprocessing = found.preprocessing;
      notes.push(found.note);
      continue;
    }
    // keras-team/keras-applications (2019) called the classifier "probs"; tf.keras calls it "predictions"
    const name = layer === 'probs' ? 'predictions' : layer;
    for (const [weight, tensor] of layerWeights) weights.set(`${name}/${weight}`, tensor);
  }
  if (!preprocessing) notes.push('no Normalization layer in the file: using the variant\'s default preprocessing');
  return { format: 'keras-h5', weights, buildOptions: { preprocessing }, variantHint: null, notes };
}

/**
 * Keras V1 models normalise with a Normalization layer after Rescaling(1/255). The keras
 * applications files store the ImageNet std in its variance slot (tensorflow/tensorflow#49930);
 * Keras compensates with an extra Rescaling(1/√std) so the effective input is (x/255 − mean)/std.
 * We reproduce that effective preprocessing: a variance equal to the ImageNet std is read as the
 * std; any other variance is a real variance and its square root is the std.
 */
function kerasNormalization(layer: string, weights: ReadonlyMap<string, FileTensor>, path: string): { preprocessing: Preprocessing; note: string } {
  const mean = weights.get('mean');
  const variance = weights.get('variance');
  for (const [name, t] of [['mean', mean], ['variance', variance]] as const) {
    if (!t) throw new ApiError('invalid_input', `layer "${layer}" in ${path} has no "${name}" weight`);
    if (t.data.length !== 3) throw new ApiError('invalid_input', `"${t.source}" in ${path} has shape ${formatShape(t.shape)}, expected 3 values (RGB)`);
  }
  const m = Array.from(mean!.data) as [number, number, number];
  const v = Array.from(variance!.data) as [number, number, number];
  if (v.some((x) => !(x > 0))) throw new ApiError('invalid_input', `"${variance!.source}" in ${path} holds a variance ≤ 0: ${formatShape(v)}`);
  const stdInVarianceSlot = v.every((x, c) => Math.abs(x - IMAGENET_STD[c]) < 1e-4);
  const std = (stdInVarianceSlot ? v : v.map(Math.sqrt)) as [number, number, number];
  return {
    preprocessing: { mean: m, std, divisor: 255 },
    note: stdInVarianceSlot
      ? `"${layer}" stores the ImageNet std in its variance slot (the known Keras applications bug): preprocessing is (x/255 − mean)/std with that std`
      : `"${layer}" holds a true variance: preprocessing is (x/255 − mean)/√variance`,
  };
}

// ---------- timm .safetensors ----------

function timmSource(file: string, timmModel: string | undefined): SourceWeights {
  const st = readSafetensors(file);
  for (const [name, entry] of st.entries) {
    if (!st.tensors.has(name) && !name.endsWith('.num_batches_tracked')) {
      throw new ApiError('invalid_input', `tensor "${name}" in ${file} has dtype ${entry.dtype}; EfficientNet weights are floating point`);
    }
  }
  const arch = resolveTimmArchitecture(file, timmModel);
  const notes = [`timm ${arch.name}${arch.tag ? `.${arch.tag}` : ''} (named by ${arch.from})`];
  notes.push(
    arch.tfPorted
      ? 'TF-ported weights: TF "SAME" padding, BatchNorm eps 1e-3'
      : 'PyTorch-trained weights: symmetric padding and BatchNorm eps 1e-5, built exactly so (differs from the Keras layout)',
  );
  const preprocessing = arch.preprocessing!;
  notes.push(`preprocessing (x/255 − mean)/std with mean ${formatShape(preprocessing.mean)}, std ${formatShape(preprocessing.std)}`);
  return {
    format: 'timm-safetensors',
    weights: timmToKeras(st.tensors, file),
    buildOptions: arch.tfPorted ? { padding: 'tf-same', bnEpsilon: 1e-3, preprocessing } : { padding: 'symmetric', bnEpsilon: 1e-5, preprocessing },
    variantHint: { id: arch.variantId, from: arch.from },
    notes,
  };
}

// ---------- matching file and model ----------

function chooseVariant(source: SourceWeights, requested: string | undefined, file: string): VariantSpec {
  if (requested !== undefined) {
    const variant = getVariant(requested);
    if (source.variantHint && source.variantHint.id !== variant.id) {
      throw new ApiError('invalid_input', `${file} holds ${getVariant(source.variantHint.id).name} (by ${source.variantHint.from}), not ${variant.name}`);
    }
    return variant;
  }
  if (source.variantHint) return getVariant(source.variantHint.id);
  const matches = variantsMatching(source.weights);
  if (matches.length === 1) return matches[0];
  throw new ApiError('invalid_input', `cannot tell which EfficientNet ${file} holds: its tensors match no published variant exactly; name the variant`);
}

/** Published variants whose backbone weights (everything but the classifier) match the file's names and shapes. */
function variantsMatching(weights: ReadonlyMap<string, FileTensor>): VariantSpec[] {
  const backbone = [...weights.keys()].filter((k) => !k.startsWith('predictions/'));
  return NAMED_VARIANTS.filter((variant) => {
    const expected = expectedWeights(variant, { includeTop: false });
    return expected.size === backbone.length && backbone.every((k) => expected.has(k) && sameShape(expected.get(k)!, weights.get(k)!.shape));
  });
}

function expectedWeights(variant: VariantSpec, options: BuildOptions): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const layer of describeLayers(variant, options)) {
    if (layer.name === PREPROCESS_LAYER) continue;
    for (const w of layer.weights) out.set(`${layer.name}/${w.name}`, w.shape);
  }
  return out;
}

/**
 * Pair every weight of the model-to-be with a file tensor, in each layer's weight order.
 * Throws naming the tensor: missing, wrong shape (both shapes, in the file's layout), or unknown.
 */
function matchWeights(source: SourceWeights, variant: VariantSpec, options: BuildOptions, headLoaded: boolean, file: string): Map<string, FileTensor[]> {
  const plan = new Map<string, FileTensor[]>();
  const used = new Set<string>();
  const hint = () => anotherVariantHint(source.weights, variant);
  for (const layer of describeLayers(variant, options)) {
    if (layer.name === PREPROCESS_LAYER || layer.weights.length === 0) continue;
    if (layer.name === 'predictions' && !headLoaded) continue;
    const tensors: FileTensor[] = [];
    for (const w of layer.weights) {
      const key = `${layer.name}/${w.name}`;
      const t = source.weights.get(key);
      if (!t) throw new ApiError('invalid_input', `${file} lacks weight "${key}" that ${variant.name} needs${hint()}`);
      if (!sameShape(t.shape, w.shape)) {
        const fileShape = t.sourceShape ?? t.shape;
        const wanted = t.toSourceShape ? t.toSourceShape(w.shape) : w.shape;
        throw new ApiError('invalid_input', `tensor "${t.source}" in ${file} has shape ${formatShape(fileShape)} but ${variant.name} needs ${formatShape(wanted)}${hint()}`);
      }
      tensors.push(t);
      used.add(key);
    }
    plan.set(layer.name, tensors);
  }
  for (const [key, t] of source.weights) {
    if (used.has(key) || (key.startsWith('predictions/') && !headLoaded)) continue;
    throw new ApiError('invalid_input', `tensor "${t.source}" in ${file} has no place in ${variant.name}${hint()}`);
  }
  return plan;
}

function anotherVariantHint(weights: ReadonlyMap<string, FileTensor>, asked: VariantSpec): string {
  const others = variantsMatching(weights).filter((v) => v.id !== asked.id);
  return others.length ? ` — the file matches ${others.map((v) => `${v.name} (--model ${v.id})`).join(' or ')}` : ' — is the file for another variant?';
}
