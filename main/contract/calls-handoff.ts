/**
 * The hand-off to PyTorch's distributed trainer (main/handoff): a bundle folder with the images'
 * manifest, the run configuration, the architecture as data, initial weights and train.py for
 * torchrun; and the import of the trained bundle as a run of the project.
 */
import { z } from 'zod';
import { call, ProjectPath } from './define';
import { RunRecord } from './calls-data';
import { TrainOptions } from './calls-train';

/** Probabilities of PyTorch and of the imported TF.js model on the same pixels must agree this closely. */
export const HANDOFF_PARITY_TOLERANCE = 1e-4;

export const HandoffExportInput = TrainOptions.extend({
  project: ProjectPath,
  out: z.string().trim().min(1, 'out is required: the bundle folder to write').describe('the bundle folder; must not exist or be empty unless force'),
  includeTest: z.boolean().default(false).describe('ship the test split too (it stays locked otherwise: the bundle trains and validates only)'),
  copyImages: z.boolean().default(false).describe('copy the images into the bundle (data/), so the folder alone can move to another machine'),
  force: z.boolean().default(false).describe('replace an existing bundle folder'),
  jobId: z.string().optional().describe('names the handoff.progress events'),
});

export const HandoffCommands = z.object({
  oneMachine: z.string().describe('torchrun on one machine, one process per GPU'),
  cpu: z.string().describe('torchrun on CPU (gloo), e.g. to try the bundle'),
  severalMachines: z.string().describe('torchrun on each of several machines, with a rendezvous'),
  slurm: z.string().describe('the sbatch script in the README'),
  importBack: z.string().describe('bringing the result back'),
});

export const HandoffExportResult = z.object({
  dir: z.string(),
  files: z.number().int().describe('files written'),
  bytes: z.number().int(),
  variant: z.string(),
  resolution: z.number().int(),
  classes: z.array(z.string()),
  images: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() }),
  dataRoot: z.string().describe('the folder the manifest paths are relative to (or the bundle data/ folder when copied)'),
  copied: z.boolean(),
  weights: z.string().describe('what the initial weights are, in words'),
  parityImages: z.number().int(),
  commands: HandoffCommands,
  warnings: z.array(z.string()),
  seconds: z.number(),
});
export type HandoffExportResult = z.infer<typeof HandoffExportResult>;

export const TrainedElsewhere = z.object({
  hosts: z.array(z.string()),
  nodes: z.number().int(),
  processes: z.number().int().describe('torchrun world size: one process per GPU (or per CPU share)'),
  device: z.string(),
  deviceType: z.string(),
  torch: z.string(),
  cuda: z.string().nullable(),
  python: z.string().nullable(),
  impl: z.string().describe('builtin: the network train.py builds from the block table; timm: timm.create_model'),
  amp: z.boolean(),
  distributedBackend: z.string().nullable().describe('nccl or gloo; null for a single process without torchrun'),
  resumes: z.number().int().describe('how often the training resumed from its checkpoint'),
  bundle: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  stopped: z.string().describe('why the training ended, in words'),
});
export type TrainedElsewhere = z.infer<typeof TrainedElsewhere>;

export const HandoffParity = z.object({
  images: z.number().int(),
  maxAbsDiff: z.number().describe('largest difference of a class probability between PyTorch and the imported model'),
  top1Agree: z.boolean(),
  tolerance: z.number(),
  source: z.enum(['local-torch', 'bundle']).describe("local-torch: train.py --predict ran here on the final weights; bundle: the probabilities train.py wrote at the end of training (out/parity.json)"),
  torch: z.string().nullable(),
});
export type HandoffParity = z.infer<typeof HandoffParity>;

export const HandoffImportResult = z.object({
  run: RunRecord,
  epochs: z.number().int(),
  trainedElsewhere: TrainedElsewhere,
  parity: HandoffParity.nullable().describe('null only with skipParity'),
  modelDir: z.string(),
  notes: z.array(z.string()),
  seconds: z.number(),
});
export type HandoffImportResult = z.infer<typeof HandoffImportResult>;

export const handoffCalls = {
  'handoff.export': call(
    HandoffExportInput,
    HandoffExportResult,
    "Write a hand-off bundle for PyTorch's distributed trainer (torchrun): images manifest, run configuration, architecture as data, initial weights (safetensors, timm naming), train.py, README",
  ),
  'handoff.import': call(
    z.object({
      project: ProjectPath,
      dir: z.string().trim().min(1, 'dir is required: the bundle folder after training'),
      skipParity: z.boolean().default(false).describe('import without checking that PyTorch and the imported model agree (not recommended)'),
      python: z.string().trim().min(1).optional().describe('the Python with torch for the parity check; default $EFFITUNE_PYTHON, else the first python3 on this machine that has torch'),
    }),
    HandoffImportResult,
    'Bring a trained bundle back: check it belongs to this project (hashes), convert its final weights to a run model, check PyTorch parity, record the run and its epochs as trained elsewhere',
  ),
} as const;

export const handoffEvents = {
  'handoff.progress': z.object({ project: z.string(), jobId: z.string().nullable(), phase: z.string(), done: z.number().int(), total: z.number().int(), message: z.string() }),
} as const;
