/**
 * Contract of the model zoo: the EfficientNet variants and their figures (models.*), the
 * pretrained-weights cache (weights.*: list, download with progress, import from a file, convert to
 * a TF.js model folder) and inference on a model folder (models.predict). Handlers:
 * main/service/handlers-models.ts; the work: main/model/manager.
 */
import { z } from 'zod';
import { call } from './define';
import { BackendName } from './calls-backend';
import { ProviderName } from './calls-inference';

// ---------- limits (the schemas below use them; the engine and the UI read them from here) ----------

/** Input height and width of a model, in pixels. */
export const RESOLUTION_RANGE = { min: 16, max: 2048 } as const;
/** φ of a custom compound scaling: −10 is a 56 px network with one block per stage, +10 far beyond B7. */
export const PHI_RANGE = { min: -10, max: 10 } as const;
/** α, β, γ of a custom compound scaling: the paper asks each ≥ 1 (no dimension shrinks as φ grows); at most 3. */
export const SCALING_COEFFICIENT_RANGE = { min: 1, max: 3 } as const;
/** The paper's α, β, γ (grid search on B0 under α·β²·γ² ≈ 2): what a custom scaling assumes unless told. */
export const PAPER_SCALING = { alpha: 1.2, beta: 1.1, gamma: 1.15 } as const;

const between = ({ min, max }: { readonly min: number; readonly max: number }) => `must be between ${min} and ${max}`;

export const Resolution = z
  .number()
  .int('must be a whole number')
  .min(RESOLUTION_RANGE.min, `must be at least ${RESOLUTION_RANGE.min} pixels`)
  .max(RESOLUTION_RANGE.max, `must be at most ${RESOLUTION_RANGE.max} pixels`);

// ---------- shapes ----------

export const VariantId = z.string().trim().min(1, 'variant is required').describe('b0..b7, v2-b0..v2-b3, v2-s, v2-m, v2-l, or a custom "phi=<n>[,alpha=..,beta=..,gamma=..]"');
export const BatchSize = z.number().int().min(1).max(4096).default(32);

export const WeightsFormat = z.enum(['keras-h5', 'timm-safetensors']);

/** A pretrained weights file in the app's cache (<dataDir>/weights/<id>/). */
export const LocalWeights = z.object({
  id: z.string().describe('folder name in the weights cache'),
  variant: z.string(),
  includeTop: z.boolean().describe('true when the file has the classifier'),
  classes: z.number().int().nullable().describe("the file's classifier size; null without top"),
  format: WeightsFormat,
  file: z.string().describe('absolute path of the cached file'),
  bytes: z.number().int(),
  md5: z.string(),
  source: z.enum(['download', 'import']),
  origin: z.string().describe('the URL it came from, or the path it was imported from'),
  verified: z.boolean().describe("its MD5 equals the published checksum of a Keras applications file"),
  timmModel: z.string().nullable().describe('timm architecture name of a .safetensors file'),
  addedAt: z.string(),
});
export type LocalWeights = z.infer<typeof LocalWeights>;

/** A published file Effitune can download (Keras applications ImageNet weights). */
export const PretrainedFile = z.object({
  variant: z.string().describe('Effitune variant id: b0..b7, v2-b0..v2-b3, v2-s, v2-m, v2-l'),
  includeTop: z.boolean(),
  fileName: z.string().describe('the name Keras downloads it under, e.g. efficientnetb0_notop.h5'),
  url: z.string(),
  md5: z.string().describe("hex MD5 of the whole file, as published in Keras' WEIGHTS_HASHES"),
  local: z.boolean().describe('already in the weights cache'),
});
export type PretrainedFile = z.infer<typeof PretrainedFile>;

/** What the engine computes for a variant before building it (main/model/estimates.ts). */
export const ArchitectureFigures = z.object({
  id: z.string(),
  name: z.string(),
  family: z.enum(['v1', 'v2']),
  resolution: z.number().int(),
  params: z.number().int().describe('trainable parameters with a 1000-class head'),
  flops: z.number().describe('multiply-adds of one image at this resolution'),
  trainingMemoryBytes: z.number().describe('estimated bytes of one training step at this batch size'),
  batch: z.number().int(),
  top1: z.number().nullable().describe('published ImageNet top-1 (%)'),
  width: z.number(),
  depth: z.number(),
  dropout: z.number(),
  blocks: z.number().int(),
});
export type ArchitectureFigures = z.infer<typeof ArchitectureFigures>;

/** A variant's figures with the pretrained weights the cache holds and the files it could download. */
export const VariantFigures = ArchitectureFigures.extend({
  weights: z.array(LocalWeights).describe('pretrained weights for this variant in the local cache'),
  pretrained: z.array(PretrainedFile).describe('published files that can be downloaded for it'),
});
export type VariantFigures = z.infer<typeof VariantFigures>;

const ScalingCoefficient = z.number().finite().min(SCALING_COEFFICIENT_RANGE.min, between(SCALING_COEFFICIENT_RANGE)).max(SCALING_COEFFICIENT_RANGE.max, between(SCALING_COEFFICIENT_RANGE));

export const CustomScaling = z.object({
  phi: z.number().finite().min(PHI_RANGE.min, between(PHI_RANGE)).max(PHI_RANGE.max, between(PHI_RANGE)),
  alpha: ScalingCoefficient.default(PAPER_SCALING.alpha),
  beta: ScalingCoefficient.default(PAPER_SCALING.beta),
  gamma: ScalingCoefficient.default(PAPER_SCALING.gamma),
  basePhi: z
    .number()
    .finite()
    .min(PHI_RANGE.min, between(PHI_RANGE))
    .max(PHI_RANGE.max, between(PHI_RANGE))
    .optional()
    .describe("the network φ scales from: B0 scaled by the paper's coefficients to this φ; default 0 (B0). A family found by the scaling lab keeps its search's base"),
});

export const WeightsProgress = z.object({
  jobId: z.string(),
  variant: z.string(),
  includeTop: z.boolean(),
  fileName: z.string(),
  url: z.string(),
  phase: z.enum(['connecting', 'downloading', 'verifying', 'done', 'failed', 'cancelled']),
  receivedBytes: z.number().int(),
  totalBytes: z.number().int().nullable(),
  resumedFrom: z.number().int().describe('bytes kept from an earlier, interrupted download'),
  bytesPerSecond: z.number(),
  elapsedSeconds: z.number(),
});
export type WeightsProgress = z.infer<typeof WeightsProgress>;

export const Prediction = z.object({
  source: z.string().describe('image path, or "<file.npy>[i]"'),
  top: z.array(z.object({ index: z.number().int(), label: z.string(), probability: z.number() })),
  probabilities: z.array(z.number()),
});
export type Prediction = z.infer<typeof Prediction>;

// ---------- calls ----------

export const modelCalls = {
  'models.list': call(
    z.object({ batch: BatchSize }),
    z.object({ batch: z.number().int(), variants: z.array(VariantFigures) }),
    'Every published variant: resolution, parameters, FLOPs, training memory at a batch size, top-1, local weights',
  ),
  'models.describe': call(
    z
      .object({ variant: VariantId.optional(), custom: CustomScaling.optional(), batch: BatchSize, resolution: Resolution.optional() })
      .refine((v) => (v.variant === undefined) !== (v.custom === undefined), { message: 'give either variant or custom {phi, alpha, beta, gamma}, not both' }),
    VariantFigures.extend({
      scaling: z
        .object({ phi: z.number(), alpha: z.number(), beta: z.number(), gamma: z.number(), basePhi: z.number().optional(), flopsGrowthPerPhi: z.number().describe('α·β²·γ², ≈ 2 in the paper') })
        .nullable(),
    }),
    'Figures for one variant, named or a custom compound scaling (the φ slider)',
  ),
  'models.predict': call(
    z
      .object({
        model: z.string().trim().min(1, 'model folder is required'),
        npy: z.string().trim().min(1).optional().describe('NHWC float32 .npy of RGB pixels 0..255'),
        images: z.array(z.string().trim().min(1)).optional(),
        top: z.number().int().min(1).max(1000).default(5),
        backend: BackendName.optional().describe('force TF.js on this backend; default: ONNX Runtime (TF.js where it cannot load)'),
        provider: ProviderName.optional().describe('force an ONNX Runtime execution provider; default: the best that loads on real hardware'),
      })
      .refine((v) => (v.npy === undefined) !== (v.images === undefined || v.images.length === 0), { message: 'give either an .npy file or image files' }),
    z.object({
      model: z.object({ dir: z.string(), variant: z.string().nullable(), height: z.number().int(), width: z.number().int(), classes: z.number().int(), labels: z.string().nullable() }),
      input: z.object({ kind: z.enum(['npy', 'images']), shape: z.array(z.number().int()), resize: z.string().nullable() }),
      predictions: z.array(Prediction),
      warnings: z.array(z.string()),
      backend: z.string().describe("what computed: 'onnxruntime:<provider>' or the TF.js backend"),
      elapsedSeconds: z.number(),
    }),
    'Class probabilities of a TF.js model folder for an .npy of pixels or image files',
  ),
  'weights.list': call(
    z.object({}),
    z.object({ dir: z.string(), weights: z.array(LocalWeights), catalogue: z.array(PretrainedFile) }),
    'Pretrained weights in the local cache, and the published files that can be downloaded',
  ),
  'weights.download': call(
    z.object({ variant: VariantId, includeTop: z.boolean().default(true), jobId: z.string().min(1).max(100).optional() }),
    z.object({ weights: LocalWeights, alreadyPresent: z.boolean(), downloadedBytes: z.number().int(), resumedFrom: z.number().int(), elapsedSeconds: z.number() }),
    'Download a published weights file (resumable, MD5-checked) into the cache; the only call that uses the network',
  ),
  'weights.cancel': call(z.object({ jobId: z.string() }), z.object({ cancelled: z.boolean() }), 'Cancel a running download (the partial file is kept for resuming)'),
  'weights.importFile': call(
    z.object({ file: z.string().trim().min(1, 'file is required').describe('a .h5 / .safetensors file, or a folder holding exactly one'), variant: VariantId.optional(), timmModel: z.string().trim().min(1).optional() }),
    z.object({ weights: LocalWeights, alreadyPresent: z.boolean(), notes: z.array(z.string()) }),
    'Check a .h5 / .safetensors weights file (or the one in a folder) and copy it into the cache (offline machines)',
  ),
  'weights.convert': call(
    z.object({
      file: z.string().trim().min(1, 'file is required'),
      out: z.string().trim().min(1, 'output folder is required'),
      variant: VariantId.optional(),
      classes: z.number().int().min(1).max(100_000).optional().describe("classifier size; a count other than the file's gets a new head"),
      resolution: Resolution.optional(),
      timmModel: z.string().trim().min(1).optional(),
      seed: z.number().int().optional().describe('seeds a new head'),
      overwrite: z.boolean().default(false),
    }),
    z.object({
      out: z.string(),
      files: z.array(z.string()),
      bytes: z.number().int(),
      variant: z.string(),
      resolution: z.number().int(),
      classes: z.number().int(),
      headLoaded: z.boolean(),
      format: WeightsFormat,
      notes: z.array(z.string()),
    }),
    'Build a model from a weights file and write it as a TF.js model folder (model.json + weights.bin)',
  ),
} as const;

export const modelEvents = {
  'weights.progress': WeightsProgress,
} as const;
