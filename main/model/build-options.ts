/**
 * The options of a model build, resolved against the variant's defaults. Kept apart from the
 * builder so the layer table and the estimates (CLI `models --json`) work without loading tf.js.
 */
import { RESOLUTION_RANGE } from '../contract/calls-models';
import { ApiError } from '../contract/contract';
import type { Preprocessing, VariantSpec } from './variants';

export interface BuildOptions {
  /** classifier size; default 1000 */
  classes?: number;
  /** false: no pooling/dropout/classifier (Keras include_top=False) */
  includeTop?: boolean;
  /** only without top: 'avg' or 'max' pools the feature map to [batch, channels]; default none (4-D) */
  pooling?: 'avg' | 'max' | null;
  /** input height and width; default the variant's */
  resolution?: number;
  dropout?: number;
  /** stochastic-depth rate of the last block; default the variant's (0.2) */
  dropConnect?: number;
  /**
   * 'tf-same': TensorFlow "SAME" (Keras, timm tf_efficientnet_*): stride-2 pads the extra pixel
   * bottom/right. 'symmetric': PyTorch padding k//2 on every side (timm's plain efficientnet_*).
   */
  padding?: 'tf-same' | 'symmetric';
  bnEpsilon?: number;
  preprocessing?: Preprocessing;
  classifierActivation?: 'softmax' | 'linear';
  /** seeds the initialisers so two builds with the same seed start from the same weights */
  seed?: number;
}

export interface ResolvedBuildOptions {
  classes: number;
  includeTop: boolean;
  pooling: 'avg' | 'max' | null;
  resolution: number;
  dropout: number;
  dropConnect: number;
  padding: 'tf-same' | 'symmetric';
  bnEpsilon: number;
  preprocessing: Preprocessing;
  classifierActivation: 'softmax' | 'linear';
  seed: number | undefined;
}

export const PREPROCESS_LAYER = 'preprocess';

export function resolveBuildOptions(variant: VariantSpec, options: BuildOptions = {}): ResolvedBuildOptions {
  const resolved: ResolvedBuildOptions = {
    classes: options.classes ?? 1000,
    includeTop: options.includeTop ?? true,
    pooling: options.pooling ?? null,
    resolution: options.resolution ?? variant.resolution,
    dropout: options.dropout ?? variant.dropout,
    dropConnect: options.dropConnect ?? variant.dropConnect,
    padding: options.padding ?? 'tf-same',
    bnEpsilon: options.bnEpsilon ?? variant.bnEpsilon,
    preprocessing: options.preprocessing ?? variant.preprocessing,
    classifierActivation: options.classifierActivation ?? 'softmax',
    seed: options.seed,
  };
  if (!Number.isInteger(resolved.classes) || resolved.classes < 1) throw new ApiError('invalid_input', `classes must be a whole number ≥ 1, got ${resolved.classes}`);
  const { min, max } = RESOLUTION_RANGE;
  if (!Number.isInteger(resolved.resolution) || resolved.resolution < min || resolved.resolution > max) {
    throw new ApiError('invalid_input', `resolution must be a whole number of pixels between ${min} and ${max}, got ${resolved.resolution}`);
  }
  for (const key of ['dropout', 'dropConnect'] as const) {
    if (!(resolved[key] >= 0 && resolved[key] < 1)) throw new ApiError('invalid_input', `${key} must be in [0, 1), got ${resolved[key]}`);
  }
  if (resolved.pooling !== null && resolved.includeTop) throw new ApiError('invalid_input', 'pooling applies only with includeTop: false (the top already pools)');
  return resolved;
}
