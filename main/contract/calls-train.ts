/**
 * Contract of training: the calls that start and steer a run (start, pause, resume, cancel, wait),
 * the live events of a run, and the messages between the service and its trainer process
 * (main/train/trainer-process.ts). The records of finished epochs and runs reuse the shapes of
 * main/contract/calls-data.ts (runs.list / runs.get read them back).
 */
import { z } from 'zod';
import { call, ProjectPath } from './define';
import { Augmentation, EpochRecord, RunRecord, RunStatus } from './calls-data';
import { BackendName } from './calls-backend';
import { Resolution } from './calls-models';

// ---------- configuration ----------

/**
 * head: backbone features computed once per image (cached by content), only the classifier trains.
 * top: the classifier, the head convolution and the last N blocks train; BatchNorm stays frozen.
 * full: every layer trains (BatchNorm too unless freezeBatchNorm).
 */
export const TrainMode = z.enum(['head', 'top', 'full']);
export type TrainMode = z.infer<typeof TrainMode>;

/** adamw is Adam with decoupled weight decay (Loshchilov & Hutter); sgd has momentum 0.9. */
export const OptimizerName = z.enum(['adam', 'adamw', 'sgd']);
export type OptimizerName = z.infer<typeof OptimizerName>;

/** auto: class weights when the largest class has at least 1.5× the images of the smallest, else none. */
export const Imbalance = z.enum(['auto', 'none', 'weights', 'sampling']);
export type Imbalance = z.infer<typeof Imbalance>;

const Rate = z.number({ error: 'must be a number' }).min(0, 'must be at least 0').lt(1, 'must be below 1');

/** Training augmentation as the caller gives it: any subset of the settings, or false for none. */
export const AugmentationChoice = z.union([z.literal(false), z.object(Augmentation.shape).partial()]);

const MODEL_REQUIRED = 'is required: b0..b7, v2-b0..v2-l, or a custom φ';

/** What a caller chooses for a new run; everything left out gets the default for the model and mode. */
/** How the engine stores a run's tensors: all float32, or float16 activations (mixed precision). */
export const Precision = z.enum(['fp32', 'mixed']);
export type Precision = z.infer<typeof Precision>;

export const TrainOptions = z.object({
  model: z.string({ error: MODEL_REQUIRED }).trim().min(1, MODEL_REQUIRED).describe('b0..b7, v2-b0..v2-b3, v2-s, v2-m, v2-l, or a custom "phi=<n>[,alpha=..,beta=..,gamma=..]"'),
  resolution: Resolution.optional().describe("default: the model's"),
  mode: TrainMode.optional().describe('default: head when the run starts from weights, full when it trains from scratch (head and top modes freeze a backbone that would be random)'),
  epochs: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000).optional().describe('default: head 20, top 15, full 30'),
  batch: z.number().int('must be a whole number').min(1, 'must be at least 1').max(4096).optional().describe("default: the largest that fits the backend's memory (at most 32)"),
  backend: BackendName.optional().describe('default: the best backend here that can train'),
  seed: z.number().int('must be a whole number').min(0).max(4_294_967_295).default(1),
  weights: z.string().trim().min(1).optional().describe('a .h5 / .safetensors weights file, a folder holding one, or a TF.js model folder (an earlier run\'s model: its backbone is used, the classifier is new); without it the model trains from scratch'),
  topBlocks: z.number().int('must be a whole number').min(1, 'must be at least 1').optional().describe('mode top: how many of the last blocks train; default a quarter of the blocks'),
  optimizer: OptimizerName.optional().describe('default adam (adamw when weightDecay is given)'),
  lr: z.number().gt(0, 'must be above 0').max(10).optional().describe('peak learning rate; default head 1e-3, top/full 1e-4 with weights, 1e-3 from scratch'),
  weightDecay: z.number().min(0).max(1).optional().describe('decoupled weight decay of adamw / L2 of sgd; default 0.01 for adamw, else 0'),
  warmupEpochs: z.number().min(0).optional().describe('linear warm-up before the cosine decay; default 1 for top/full runs of 5+ epochs, else 0'),
  labelSmoothing: Rate.optional().describe('default 0.1'),
  imbalance: Imbalance.default('auto'),
  dropout: Rate.optional().describe("dropout before the classifier; default the model's"),
  dropConnect: Rate.optional().describe("stochastic depth of the last block; default the model's (0.2)"),
  patience: z.number().int().min(0).optional().describe('early stopping: epochs without a better validation loss before stopping; 0 = never; default 5'),
  augment: AugmentationChoice.optional().describe('default: the pipeline defaults; false: no augmentation (head mode never augments)'),
  bnMomentum: z.number().gt(0).lt(1).optional().describe("BatchNorm moving-average momentum while BatchNorm trains; default the model's (0.99 V1, 0.9 V2); lower suits short runs"),
  freezeBatchNorm: z.boolean().optional().describe('full mode: keep BatchNorm in inference mode too; default false (always true in top mode)'),
  engine: z
    .enum(['tfjs', 'effitune'])
    .optional()
    .describe("who computes the training steps. Absent: on the webgpu backend in full and top mode our static-graph WebGPU engine (effitune), falling back to TF.js's WebGPU backend, with a note, when the engine cannot start; TF.js on any other backend and in head mode. effitune: the engine or fail (implies backend webgpu). tfjs: TF.js on the backend (on webgpu, TF.js's WebGPU backend: the fallback rung)"),
  precision: Precision.optional().describe(
    "fp32 (default): every tensor float32. mixed: the engine stores the activations as float16 (about a third less GPU memory for a B0 step, so a larger batch fits; weights, gradients, optimizer state and all arithmetic stay float32, as in PyTorch's autocast); needs the Effitune engine (implied) on a GPU with shader-f16",
  ),
  subset: z
    .object({
      train: z.number().int('must be a whole number').min(2, 'must be at least 2'),
      val: z.number().int('must be a whole number').min(1, 'must be at least 1').optional().describe('default: the whole validation split'),
      seed: z.number().int().min(0).max(4_294_967_295).default(1).describe('which images: fixed by this seed and the content hashes, not by the run seed'),
    })
    .optional()
    .describe("train (and validate) on a stratified subset of the splits: every class keeps its share; the compound-scaling lab's candidates use it"),
  decodeCache: z
    .number()
    .int('must be a whole number')
    .min(16, 'must be at least 16')
    .max(4096)
    .optional()
    .describe("decode each image once into <project>.d/cache/decoded-<N> (at most N pixels on its longer side; smaller images are kept exactly) and read that in every epoch and every run that asks — the scaling lab's candidates share it"),
  allowRandomBackbone: z
    .boolean()
    .optional()
    .describe('head/top mode without weights trains on a random, frozen backbone and is refused (it cannot learn much beyond chance); true trains it anyway (experiments, tests)'),
});
export type TrainOptions = z.input<typeof TrainOptions>;

/** The mode of a run that names none: head on given weights, full from scratch (where head and top would freeze a random backbone). */
export function defaultTrainMode(weights: string | null | undefined): z.infer<typeof TrainMode> {
  return weights ? 'head' : 'full';
}

/** The resolved configuration of a run, as stored in runs.config and used again by a resume. */
export const TrainConfig = z.object({
  version: z.literal(1),
  model: z.string().describe('variant id'),
  resolution: z.number().int(),
  mode: TrainMode,
  epochs: z.number().int(),
  batch: z.number().int().nullable().describe('null: chosen from the memory estimate when the run starts'),
  backend: BackendName.nullable(),
  seed: z.number().int(),
  weights: z.string().nullable().describe('absolute path of the weights file or model folder; null = from scratch'),
  topBlocks: z.number().int().nullable(),
  optimizer: OptimizerName,
  lr: z.number(),
  weightDecay: z.number(),
  warmupEpochs: z.number(),
  labelSmoothing: z.number(),
  imbalance: z.enum(['none', 'weights', 'sampling']),
  dropout: z.number(),
  dropConnect: z.number(),
  patience: z.number().int(),
  augment: z.union([z.literal(false), Augmentation]),
  bnMomentum: z.number().nullable(),
  freezeBatchNorm: z.boolean(),
  engine: z.enum(['tfjs', 'effitune']).optional().describe('as asked; absent: chosen when the run starts (effitune on webgpu in full/top mode, else tfjs)'),
  precision: Precision.optional().describe('absent: fp32; mixed: float16 activations on the engine'),
  decodeCache: z.number().int().optional().describe('absent: images are decoded from their files every epoch; else the longer side of the shared decode cache'),
  subset: z
    .object({ train: z.number().int(), val: z.number().int().nullable(), seed: z.number().int() })
    .optional()
    .describe('absent: the whole train and validation splits; else a stratified subset of each (val null: the whole validation split)'),
  classes: z.array(z.string()),
  recipe: z
    .array(z.string())
    .optional()
    .describe("what the default recipe fitted to this project's images (size, grayscale, counts) chose and why, in words; absent when nothing differs from the fixed defaults"),
});
export type TrainConfig = z.infer<typeof TrainConfig>;

// ---------- live state ----------

export const TrainPhase = z.enum(['starting', 'embedding', 'training', 'validating', 'checkpointing']);
export type TrainPhase = z.infer<typeof TrainPhase>;

export const TrainProgress = z.object({
  project: z.string(),
  runId: z.number().int(),
  phase: TrainPhase,
  epoch: z.number().int().describe('0-based epoch in progress'),
  epochs: z.number().int(),
  batchIndex: z.number().int().describe('batches done in this epoch (or images embedded, in the embedding phase)'),
  batchesPerEpoch: z.number().int().describe('batches of this epoch (or images to embed)'),
  step: z.number().int().describe('optimizer steps since the run began'),
  loss: z.number().nullable().describe('loss of the last batch'),
  accuracy: z.number().nullable().describe('accuracy of the last batch'),
  lr: z.number(),
  batch: z.number().int(),
  imagesPerSecond: z.number(),
  etaSeconds: z.number().nullable().describe('until the last epoch ends, at the current speed'),
  elapsedSeconds: z.number(),
});
export type TrainProgress = z.infer<typeof TrainProgress>;

export const TrainNoteKind = z.enum(['oom', 'skipped', 'info', 'warning']);

/** Something worth telling about a run, stored with it: a halved batch, skipped images, a fallback. */
export const TrainNote = z.object({
  at: z.string(),
  kind: TrainNoteKind,
  message: z.string(),
});
export type TrainNote = z.infer<typeof TrainNote>;

export const TrainStarted = z.object({
  run: RunRecord,
  backend: BackendName,
  device: z.string(),
  batch: z.number().int(),
  fromScratch: z.boolean(),
  resumedFromEpoch: z.number().int().nullable().describe('the last finished epoch a resumed run continues after; null for a new run'),
  notes: z.array(z.string()).describe('what the trainer decided, in words (weights loaded, batch chosen, ...)'),
  warnings: z.array(z.string()),
});
export type TrainStarted = z.infer<typeof TrainStarted>;

export const TrainOutcome = z.object({
  run: RunRecord,
  epochs: z.array(EpochRecord),
  notes: z.array(TrainNote),
  final: z
    .object({ epoch: z.number().int(), trainLoss: z.number().nullable(), trainAcc: z.number().nullable(), valLoss: z.number().nullable(), valAcc: z.number().nullable() })
    .nullable()
    .describe('metrics of the epoch whose weights the model keeps (the best one, else the last)'),
  modelDir: z.string().nullable().describe('TF.js model folder of the finished run (model.json + weights.bin)'),
  failureCode: z
    .string()
    .optional()
    .describe('a run that failed while this app trained it: the error code of why (io_error: the disk is full or failing; internal: a bug)'),
  peakMemoryBytes: z.number().optional().describe('peak resident memory of the trainer process, when this service trained the run just now'),
});
export type TrainOutcome = z.infer<typeof TrainOutcome>;

export const ActiveRun = z.object({
  project: z.string(),
  runId: z.number().int(),
  status: RunStatus,
  pid: z.number().int().nullable(),
  progress: TrainProgress.nullable(),
});
export type ActiveRun = z.infer<typeof ActiveRun>;

/** train.estimate's answer: what a run with these options would take here, measured before it starts. */
export const TrainEstimate = z.object({
  backend: BackendName,
  device: z.string(),
  batch: z.number().int().describe('the batch the run would start with (the one given, or chosen from the memory estimate and the backend memory)'),
  batchReason: z.string().describe('why that batch, in words'),
  trainImages: z.number().int(),
  valImages: z.number().int(),
  epochs: z.number().int(),
  stepsPerEpoch: z.number().int().describe('ceil(trainImages / batch)'),
  secondsPerStep: z.number().describe('one optimizer step (head mode: of the classifier on cached features)'),
  secondsPerEpoch: z.number().describe('training steps, the data pipeline, validation and the checkpoint of one epoch'),
  embeddingSeconds: z.number().describe('head mode: the one-off backbone pass over images without cached features; 0 otherwise'),
  uncachedImages: z.number().int().describe('head mode: images whose backbone features are not cached yet; 0 otherwise'),
  warmupSeconds: z.number().describe('how much longer the first step of a run takes than the others (kernel compilation, memory pools), once per run'),
  secondsTotal: z.number().describe('epochs × secondsPerEpoch + embeddingSeconds + warmupSeconds (early stopping may end sooner)'),
  memoryBytes: z.number().describe("estimated memory of one training step at this batch (the model's estimate; head mode needs less)"),
  backendMemoryBytes: z.number().nullable().describe('memory the backend has, when known'),
  basis: z.enum(['measured', 'history']).describe('measured: timed steps of this model on this backend just now (or earlier in this session); history: an earlier run of the same model, mode, backend and batch, used when measuring failed'),
  measuredSteps: z.number().int().describe('timed training steps behind secondsPerStep (0 for history)'),
  explanation: z.string().describe('the estimate in one sentence'),
});
export type TrainEstimate = z.infer<typeof TrainEstimate>;

/** train.plan's answer: the configuration train.start would store, without starting or measuring anything. */
export const TrainPlan = z.object({
  config: TrainConfig,
  recipe: z.array(z.string()).describe("what the default recipe fitted to this project's images chose and why (empty: the fixed defaults)"),
  warnings: z.array(z.string()).describe('what train.start would warn about (data and configuration)'),
  stepMemory: z
    .object({
      backend: BackendName,
      batch: z.number().int(),
      bytes: z.number().describe('Infinity where no GPU holds it at this batch'),
      engine: z.enum(['effitune', 'tfjs']).describe("effitune: our engine's step and validation plans, counted exactly; tfjs: TF.js's estimate of a step"),
    })
    .nullable()
    .describe("the memory of one training step of this configuration on the backend (the run's, or memoryOn) at its batch (32, the largest auto batch, when auto); null when neither names one"),
});
export type TrainPlan = z.infer<typeof TrainPlan>;

const RunRef = z.object({ project: ProjectPath, runId: z.number().int('must be a whole number').min(1, 'must be a run id (1 or more)') });

// ---------- calls ----------

export const trainCalls = {
  'train.start': call(
    TrainOptions.extend({ project: ProjectPath }),
    TrainStarted,
    'Check the data and the configuration, then start a training run in a trainer process; returns once it is running',
  ),
  'train.estimate': call(
    TrainOptions.extend({ project: ProjectPath }),
    TrainEstimate,
    "Estimate time per epoch, total time and memory of a run with train.start's options, by timing a few training steps of that model on the backend it would use (in a worker process; answers from a cache when asked again)",
  ),
  'train.plan': call(
    TrainOptions.extend({ project: ProjectPath, memoryOn: BackendName.optional().describe("the backend to count stepMemory on where the options leave it to auto (the one a run would pick); the options' own backend comes first") }),
    TrainPlan,
    "The configuration train.start would resolve for these options (the recipe's choices for this project's images, with reasons), refused exactly as train.start would refuse it; reads the project only",
  ),
  'train.estimateCancel': call(z.object({}), z.object({ cancelled: z.number().int().describe('measurements stopped') }), 'Stop the estimates being measured now (their train.estimate calls fail with "cancelled")'),
  'train.pause': call(RunRef, z.object({ run: RunRecord }), 'Pause a running run after its current step (the model stays in memory)'),
  'train.resume': call(
    RunRef.extend({ backend: BackendName.optional().describe('resuming a stopped run on another backend') }),
    TrainStarted,
    'Resume a paused run, or continue a stopped (failed, cancelled, killed) run from its last finished epoch with the same configuration',
  ),
  'train.cancel': call(RunRef, z.object({ run: RunRecord }), 'Stop a run after its current step; the checkpoint of its last finished epoch is kept'),
  'train.wait': call(
    RunRef.extend({ timeoutSeconds: z.number().positive().optional().describe('give up waiting (the run goes on); default: no limit') }),
    TrainOutcome,
    'Wait until a run ends and return its epochs, notes and final metrics',
  ),
  'train.active': call(z.object({}), z.object({ runs: z.array(ActiveRun) }), 'Runs this app is training now, with their latest progress'),
  'train.notes': call(RunRef, z.object({ notes: z.array(TrainNote) }), "A run's notes: halved batches, skipped images, decisions"),
} as const;

export const trainEvents = {
  'train.progress': TrainProgress,
  'train.epoch': z.object({ project: z.string(), runId: z.number().int(), epochs: z.number().int(), record: EpochRecord, isBest: z.boolean() }),
  'train.status': z.object({ project: z.string(), runId: z.number().int(), status: RunStatus, reason: z.string().nullable() }),
  'train.note': z.object({ project: z.string(), runId: z.number().int(), note: TrainNote }),
  'train.done': z.object({ project: z.string(), runId: z.number().int(), status: RunStatus, reason: z.string().nullable() }),
} as const;

// ---------- trainer process protocol ----------

/** Service → trainer process. */
export const TrainerCommand = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    project: z.string(),
    runId: z.number().int(),
    resume: z.boolean(),
    backend: BackendName.nullable(),
    stopAfterEpochs: z.number().int().min(1).optional().describe('end the run as cancelled once this many epochs are finished (a successive-halving rung of the scaling lab); resume continues it'),
  }),
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  z.object({ type: z.literal('cancel'), reason: z.string() }),
]);
export type TrainerCommand = z.infer<typeof TrainerCommand>;

/** Trainer process → service. Exactly one of done / failed ends the conversation. */
export const TrainerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), info: TrainStarted.omit({ run: true }) }),
  z.object({ type: z.literal('progress'), progress: TrainProgress }),
  z.object({ type: z.literal('epoch'), epochs: z.number().int(), record: EpochRecord, isBest: z.boolean() }),
  z.object({ type: z.literal('status'), status: RunStatus, reason: z.string().nullable() }),
  z.object({ type: z.literal('note'), note: TrainNote }),
  z.object({ type: z.literal('done'), status: RunStatus, reason: z.string().nullable(), peakMemoryBytes: z.number().optional().describe("the trainer process's peak resident memory") }),
  z.object({ type: z.literal('failed'), message: z.string(), code: z.string(), beforeStart: z.boolean() }),
]);
export type TrainerMessage = z.infer<typeof TrainerMessage>;
