/**
 * timm EfficientNet state dicts (.safetensors) → Keras layer/weight names in TF.js layouts.
 *
 * timm numbers blocks blocks.{stage}.{repeat}, exactly like Keras' block{stage+1}{a,b,…}. Stage 0
 * uses DepthwiseSeparableConv (conv_dw, bn1, se, conv_pw, bn2), later stages InvertedResidual
 * (conv_pw, bn1, conv_dw, bn2, se, conv_pwl, bn3); a block is the latter iff it has conv_pwl.
 *
 * tf_efficientnet_bN (TF "SAME" padding, BN eps 1e-3) and efficientnet_bN (symmetric padding,
 * BN eps 1e-5) have identical tensor names and shapes, so the file cannot say which it is: the
 * architecture name comes from the caller, from the hub's config.json beside the file, or from the
 * file name. Both are built exactly (the builder has a symmetric-padding mode); without a name the
 * import refuses rather than guess, because the two give different outputs.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { ApiError } from '../../contract/contract';
import { IMAGENET_PREPROCESSING, type Preprocessing } from '../variants';
import { formatShape, type FileTensor } from './tensors';

export interface TimmArchitecture {
  /** e.g. "tf_efficientnet_b0" */
  readonly name: string;
  /** pretrained tag after the dot, e.g. "ns_jft_in1k" */
  readonly tag: string | null;
  /** TF-ported weights: TF "SAME" padding and BN eps 1e-3 */
  readonly tfPorted: boolean;
  /** Effitune variant id, b0..b7 */
  readonly variantId: string;
  /** where the name came from, for the import report */
  readonly from: string;
  /** mean/std from the hub's config.json when it has them */
  readonly preprocessing: Preprocessing | null;
}

const ARCH_PATTERN = /^(tf_)?efficientnet_(b[0-7])(?:\.([\w-]+))?$/;

/** Parse "tf_efficientnet_b3.ns_jft_in1k" and friends; null when it is not a timm EfficientNet name. */
export function parseTimmName(name: string): Omit<TimmArchitecture, 'from' | 'preprocessing'> | null {
  const m = ARCH_PATTERN.exec(name.trim().toLowerCase());
  if (!m) return null;
  return { name: `${m[1] ?? ''}efficientnet_${m[2]}`, tag: m[3] ?? null, tfPorted: Boolean(m[1]), variantId: m[2] };
}

/**
 * Which timm architecture a .safetensors file holds: the caller's name first, then config.json
 * beside the file (timm's hub layout: {"architecture": …, "pretrained_cfg": {mean, std}}), then
 * the file name. Anything else is refused with what to do.
 */
export function resolveTimmArchitecture(file: string, given?: string): TimmArchitecture {
  const config = readHubConfig(file);
  const named: [string, string][] = [];
  if (given) named.push([given, 'the timm model name given']);
  if (config?.architecture) named.push([config.architecture + (config.tag ? `.${config.tag}` : ''), config.path]);
  for (const [name, from] of named) {
    const parsed = parseTimmName(name);
    if (!parsed) throw new ApiError('invalid_input', `timm model "${name}" (from ${from}) is not supported: Effitune imports tf_efficientnet_b0..b7 and efficientnet_b0..b7`);
    return { ...parsed, from, preprocessing: config?.preprocessing ?? tagPreprocessing(parsed.tag) };
  }
  const fromFileName = timmNameInFileName(nodePath.basename(file));
  if (fromFileName) return { ...fromFileName, from: 'the file name', preprocessing: tagPreprocessing(fromFileName.tag) };
  throw new ApiError(
    'invalid_input',
    `cannot tell which timm model ${file} holds: tf_efficientnet_bN (TF "SAME" padding, BN eps 1e-3) and efficientnet_bN (symmetric padding, BN eps 1e-5) ` +
      'have the same tensor names but give different outputs. Name it (CLI: --timm-model tf_efficientnet_b0) or keep the hub\'s config.json beside the file.',
  );
}

/**
 * A timm name inside a file name ("tf_efficientnet_b3.ns_jft_in1k.safetensors",
 * "my-efficientnet_b0.safetensors", timm's older "tf_efficientnet_b0_ap"); other models that merely
 * start alike ("efficientnet_b1_pruned", "efficientnet_b3a") do not count.
 */
function timmNameInFileName(base: string): Omit<TimmArchitecture, 'from' | 'preprocessing'> | null {
  const m = /(?:^|[^a-z0-9])(tf_)?efficientnet_(b[0-7])(?:([._])([a-z][\w-]*))?$/i.exec(base.replace(/\.safetensors$/i, ''));
  if (!m) return null;
  const [, tf, size, separator, tag] = m;
  // timm's old names put the tag after an underscore: only the known ones are tags, anything else is another model
  if (separator === '_' && !['ap', 'ns', 'aa'].includes(tag.toLowerCase())) return null;
  return { name: `${tf ? 'tf_' : ''}efficientnet_${size.toLowerCase()}`, tag: tag ? tag.toLowerCase() : null, tfPorted: Boolean(tf), variantId: size.toLowerCase() };
}

interface HubConfig {
  path: string;
  architecture?: string;
  tag?: string;
  preprocessing: Preprocessing | null;
}

function readHubConfig(file: string): HubConfig | null {
  const path = nodePath.join(nodePath.dirname(file), 'config.json');
  if (!fs.existsSync(path)) return null;
  let json: { architecture?: unknown; pretrained_cfg?: { tag?: unknown; mean?: unknown; std?: unknown } };
  try {
    json = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ApiError('invalid_input', `${path} beside the weights is not valid JSON: ${(err as Error).message}`);
  }
  const cfg = json.pretrained_cfg ?? {};
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((n) => typeof n === 'number' && Number.isFinite(n));
  const preprocessing =
    triple(cfg.mean) && triple(cfg.std) && (cfg.std as number[]).every((s) => s > 0)
      ? { mean: cfg.mean as [number, number, number], std: cfg.std as [number, number, number], divisor: 255 }
      : null;
  return {
    path,
    architecture: typeof json.architecture === 'string' ? json.architecture : undefined,
    tag: typeof cfg.tag === 'string' ? cfg.tag : undefined,
    preprocessing,
  };
}

/** timm's AdvProp weights (tag "ap…") were trained on inputs scaled to [-1, 1] (mean = std = 0.5). */
function tagPreprocessing(tag: string | null): Preprocessing {
  return tag?.startsWith('ap') ? { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], divisor: 255 } : IMAGENET_PREPROCESSING;
}

// ---------- names and layouts ----------

type Layout = 'conv' | 'depthwise' | 'dense' | 'vector';

const BN_WEIGHTS: Record<string, string> = { weight: 'gamma', bias: 'beta', running_mean: 'moving_mean', running_var: 'moving_variance' };
const SE_WEIGHTS: Record<string, [string, Layout]> = {
  'se.conv_reduce.weight': ['se_reduce/kernel', 'conv'],
  'se.conv_reduce.bias': ['se_reduce/bias', 'vector'],
  'se.conv_expand.weight': ['se_expand/kernel', 'conv'],
  'se.conv_expand.bias': ['se_expand/bias', 'vector'],
};
/** module → Keras layer (conv kernels and BatchNorms) per block type */
const INVERTED_RESIDUAL: Record<string, string> = { conv_pw: 'expand_conv', bn1: 'expand_bn', conv_dw: 'dwconv', bn2: 'bn', conv_pwl: 'project_conv', bn3: 'project_bn' };
const DEPTHWISE_SEPARABLE: Record<string, string> = { conv_dw: 'dwconv', bn1: 'bn', conv_pw: 'project_conv', bn2: 'project_bn' };
const TOP_LEVEL: Record<string, string> = { conv_stem: 'stem_conv', bn1: 'stem_bn', conv_head: 'top_conv', bn2: 'top_bn' };

/**
 * Rename and re-layout every float tensor of a timm EfficientNet state dict: conv [out,in,kh,kw] →
 * [kh,kw,in,out], depthwise [c,1,kh,kw] → [kh,kw,c,1], classifier [out,in] → [in,out]; BatchNorm
 * weight/bias/running_mean/running_var → gamma/beta/moving_mean/moving_variance. num_batches_tracked
 * is bookkeeping and skipped; any other name is refused.
 */
export function timmToKeras(tensors: ReadonlyMap<string, FileTensor>, file: string): Map<string, FileTensor> {
  const invertedBlocks = new Set<string>();
  for (const key of tensors.keys()) {
    const m = /^(blocks\.\d+\.\d+)\.conv_pwl\.weight$/.exec(key);
    if (m) invertedBlocks.add(m[1]);
  }
  const out = new Map<string, FileTensor>();
  for (const [key, tensor] of tensors) {
    const target = kerasName(key, invertedBlocks);
    if (!target) throw new ApiError('invalid_input', `tensor "${key}" in ${file} is not part of a timm EfficientNet (unknown name)`);
    out.set(target.name, convert(tensor, target.layout, file));
  }
  return out;
}

function kerasName(key: string, invertedBlocks: ReadonlySet<string>): { name: string; layout: Layout } | null {
  if (key === 'classifier.weight') return { name: 'predictions/kernel', layout: 'dense' };
  if (key === 'classifier.bias') return { name: 'predictions/bias', layout: 'vector' };
  const block = /^(blocks\.(\d+)\.(\d+))\.(.+)$/.exec(key);
  if (!block) return moduleWeight(key, TOP_LEVEL, '');
  const [, blockKey, stage, repeat, rest] = block;
  const prefix = `block${Number(stage) + 1}${String.fromCharCode(97 + Number(repeat))}_`;
  const se = SE_WEIGHTS[rest];
  if (se) return { name: prefix + se[0], layout: se[1] };
  return moduleWeight(rest, invertedBlocks.has(blockKey) ? INVERTED_RESIDUAL : DEPTHWISE_SEPARABLE, prefix);
}

function moduleWeight(key: string, modules: Record<string, string>, prefix: string): { name: string; layout: Layout } | null {
  const dot = key.indexOf('.');
  if (dot < 0) return null;
  const module = key.slice(0, dot);
  const weight = key.slice(dot + 1);
  const layer = modules[module];
  if (!layer) return null;
  if (module.startsWith('bn')) {
    const kerasWeight = BN_WEIGHTS[weight];
    return kerasWeight ? { name: `${prefix}${layer}/${kerasWeight}`, layout: 'vector' } : null;
  }
  if (weight !== 'weight') return null;
  return module === 'conv_dw' ? { name: `${prefix}${layer}/depthwise_kernel`, layout: 'depthwise' } : { name: `${prefix}${layer}/kernel`, layout: 'conv' };
}

const RANK: Record<Layout, number> = { conv: 4, depthwise: 4, dense: 2, vector: 1 };

function convert(t: FileTensor, layout: Layout, file: string): FileTensor {
  if (t.shape.length !== RANK[layout] || (layout === 'depthwise' && t.shape[1] !== 1)) {
    const expected = { conv: '[out, in, kh, kw]', depthwise: '[channels, 1, kh, kw]', dense: '[out, in]', vector: '[channels]' }[layout];
    throw new ApiError('invalid_input', `tensor "${t.source}" in ${file} has shape ${formatShape(t.shape)}, expected ${expected}`);
  }
  if (layout === 'vector') return t;
  if (layout === 'dense') {
    const [o, i] = t.shape;
    return { ...t, shape: [i, o], data: transpose2d(t.data, o, i), sourceShape: t.shape, toSourceShape: ([a, b]) => [b, a] };
  }
  const [o, i, kh, kw] = t.shape;
  // depthwise [c,1,kh,kw] is conv's [out,in,kh,kw] with out=c, in=1; TF.js wants [kh,kw,c,1], i.e. in/out swapped
  const data = layout === 'conv' ? ohwiFromOihw(t.data, o, i, kh, kw, false) : ohwiFromOihw(t.data, o, i, kh, kw, true);
  const shape = layout === 'conv' ? [kh, kw, i, o] : [kh, kw, o, 1];
  const toSourceShape = layout === 'conv' ? ([h, w, ci, co]: readonly number[]) => [co, ci, h, w] : ([h, w, c]: readonly number[]) => [c, 1, h, w];
  return { ...t, shape, data, sourceShape: t.shape, toSourceShape };
}

/** [o,i,kh,kw] → [kh,kw,i,o] (conv) or, for depthwise (i = 1), [kh,kw,o,1]. */
function ohwiFromOihw(src: Float32Array, o: number, i: number, kh: number, kw: number, depthwise: boolean): Float32Array {
  const dst = new Float32Array(src.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          const from = ((a * i + b) * kh + y) * kw + x;
          const to = depthwise ? (y * kw + x) * o + a : ((y * kw + x) * i + b) * o + a;
          dst[to] = src[from];
        }
      }
    }
  }
  return dst;
}

function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const dst = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  return dst;
}
