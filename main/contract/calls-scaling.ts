/**
 * Contract of the compound-scaling lab (main/scaling/): a search for the depth, width and resolution
 * coefficients α, β, γ (α·β²·γ² ≈ 2) that suit the project's own images, the families chosen from a
 * search, and the φ explorer that shows how a family grows against B0..B7.
 *
 * A search trains a grid of small models one step (φ) above a tiny base network — the candidates
 * under the constraint, the one-dimension baselines (depth, width or resolution alone) and the
 * paper's coefficients — each as an ordinary run on the same stratified subset, seed and split. It
 * prunes hopeless candidates by successive halving, repeats the best with another seed, and never
 * touches the test split. Its state is in the project, so a search interrupted by a cancel, a crash
 * or a closed app resumes with its finished candidates kept.
 */
import { z } from 'zod';
import { BackendName } from './calls-backend';
import { call, ProjectPath } from './define';
import { BatchSize, PHI_RANGE } from './calls-models';
import { Precision } from './calls-train';

/** The paper's target for α·β²·γ²: FLOPs about double per step of φ. */
export const SCALING_TARGET = 2;

export const SearchGrid = z.enum(['coarse', 'fine']);
export type SearchGrid = z.infer<typeof SearchGrid>;

/**
 * base: the search's base network (φ 0 of every candidate). compound: a grid point under the
 * constraint. paper: α 1.2, β 1.1, γ 1.15 (B0's scaling, the reference to beat). depth / width /
 * resolution: that dimension alone (α 2, β √2 or γ √2).
 */
export const CandidateRole = z.enum(['base', 'compound', 'paper', 'depth', 'width', 'resolution']);
export type CandidateRole = z.infer<typeof CandidateRole>;

/**
 * pending: not trained yet. training: its run trains now. waiting: stopped at a rung, promoted or
 * not decided yet (resuming the run continues it). pruned: successive halving left it out.
 * finished: trained to the last rung (or stopped early by patience). failed: its run failed.
 */
export const CandidateState = z.enum(['pending', 'training', 'waiting', 'pruned', 'finished', 'failed']);
export type CandidateState = z.infer<typeof CandidateState>;

export const SearchStatus = z.enum(['running', 'stopped', 'completed', 'failed']);
export type SearchStatus = z.infer<typeof SearchStatus>;

const Phi = z.number().finite().min(PHI_RANGE.min, `must be between ${PHI_RANGE.min} and ${PHI_RANGE.max}`).max(PHI_RANGE.max, `must be between ${PHI_RANGE.min} and ${PHI_RANGE.max}`);

/** What the caller chooses for a search (scale.start); everything left out gets a default. */
export const SearchOptions = z.object({
  phi: z.number().min(0.5, 'must be between 0.5 and 3').max(3, 'must be between 0.5 and 3').default(1).describe('the step the candidates are compared at: each is its coefficients to this power above the base (the paper searched at φ = 1)'),
  basePhi: Phi.optional().describe("the base network: B0 scaled to this φ by the paper's coefficients; default: the largest that keeps every candidate within budgetFlops, else -8 (72 px)"),
  budgetFlops: z.number().positive('must be above 0').optional().describe('multiply-adds per image the largest candidate may have; chooses basePhi'),
  budgetMinutes: z.number().positive('must be above 0').max(100_000).optional().describe('training time of the whole search, over all its sessions: no training starts once it is used up, and the results are of what got that far'),
  grid: SearchGrid.default('coarse'),
  maxCandidates: z.number().int().min(1, 'must be at least 1').max(100).optional().describe('at most this many compound grid points (spread over the grid); the baselines and the paper point always train'),
  subset: z.number().int().min(4, 'must be at least 4').max(1_000_000).default(400).describe('training images per candidate: a stratified subset of the train split'),
  valSubset: z.number().int().min(2, 'must be at least 2').max(1_000_000).default(200).describe('validation images per candidate: a stratified subset of the validation split'),
  epochs: z.number().int().min(1, 'must be at least 1').max(200).default(4).describe('epochs of a candidate that survives every rung'),
  seed: z.number().int().min(0).max(4_294_967_295).default(1),
  repeats: z.number().int().min(0, 'must be 0 or more').max(10).default(2).describe('the best candidates trained again with another seed, to see the noise; 0: no repeats'),
  tolerance: z.number().min(0.001, 'must be between 0.001 and 0.5').max(0.5, 'must be between 0.001 and 0.5').default(0.05).describe('a candidate keeps |α·β²·γ² − 2| / 2 within this'),
  batch: z.number().int('must be a whole number').min(1, 'must be at least 1').max(4096).default(32).describe('the same batch for every candidate'),
  backend: BackendName.optional().describe('default: the best backend here that can train'),
  precision: Precision.optional().describe(
    "every candidate's precision, as a run's: fp32 (default), or mixed: float16 activations on the Effitune WebGPU engine (needs a GPU with shader-f16), so the measured time per image is that of the precision the chosen family will train in",
  ),
});
export type SearchOptions = z.input<typeof SearchOptions>;

/** The resolved plan of a search, stored with it; a resume follows it exactly. */
export const SearchPlan = z.object({
  phi: z.number(),
  basePhi: z.number(),
  basePhiReason: z.string().describe('why this base, in words'),
  target: z.number().describe('α·β²·γ², 2'),
  tolerance: z.number(),
  grid: SearchGrid,
  maxCandidates: z.number().int().nullable(),
  subset: z.object({ train: z.number().int(), val: z.number().int(), seed: z.number().int() }),
  epochs: z.number().int(),
  rungs: z.array(z.number().int()).describe('epochs after which the compound candidates are halved (the last is epochs)'),
  seed: z.number().int(),
  repeatSeed: z.number().int(),
  repeats: z.number().int(),
  batch: z.number().int(),
  backend: BackendName.nullable(),
  precision: Precision.optional().describe("the candidates' precision; absent: fp32 (and every search from before it could be chosen)"),
  budgetFlops: z.number().nullable(),
  budgetMinutes: z.number().nullable(),
  decodeCache: z
    .number()
    .int()
    .optional()
    .describe("the candidates read the images decoded once, at most this many pixels on the longer side (twice the largest candidate's resolution); absent in searches from before the cache"),
  notes: z.array(z.string()).default([]).describe('what the plan decided beyond the options, in words (grid points that build the same network as another candidate above this base)'),
});
export type SearchPlan = z.infer<typeof SearchPlan>;

export const Candidate = z.object({
  id: z.number().int(),
  position: z.number().int(),
  role: CandidateRole,
  alpha: z.number(),
  beta: z.number(),
  gamma: z.number(),
  constraint: z.number().describe('α·β²·γ²'),
  phi: z.number().describe('0 for the base, else the search φ'),
  model: z.string().describe('the variant id its run trains, e.g. "phi=1,alpha=1.3,beta=1.05,gamma=1.2,base=-6"'),
  seed: z.number().int(),
  repeatOf: z.number().int().nullable().describe('the candidate this one repeats with another seed'),
  runId: z.number().int().nullable(),
  state: CandidateState,
  epochsDone: z.number().int(),
  flops: z.number().describe('multiply-adds per image'),
  params: z.number().int(),
  resolution: z.number().int(),
  valAcc: z.number().nullable().describe('validation accuracy of the epoch its run keeps (best validation loss)'),
  valLoss: z.number().nullable(),
  secondsPerImage: z.number().nullable().describe('measured training time per image (median over its epochs)'),
  peakMemoryBytes: z.number().nullable().describe("its trainer process's peak resident memory"),
  reason: z.string().nullable(),
});
export type Candidate = z.infer<typeof Candidate>;

/** One coefficient set over its seeds. */
export const CandidateGroup = z.object({
  role: CandidateRole,
  alpha: z.number(),
  beta: z.number(),
  gamma: z.number(),
  candidates: z.array(z.number().int()).describe('candidate ids, the first seed first'),
  meanAcc: z.number().nullable(),
  accs: z.array(z.number()).describe('validation accuracy per seed'),
  spread: z.number().nullable().describe('largest minus smallest accuracy over its seeds; null with one seed'),
  flops: z.number(),
  secondsPerImage: z.number().nullable(),
});
export type CandidateGroup = z.infer<typeof CandidateGroup>;

export const SearchReport = z.object({
  id: z.number().int(),
  project: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  status: SearchStatus,
  reason: z.string().nullable(),
  live: z.boolean().describe('this app is driving it now'),
  elapsedSeconds: z.number(),
  plan: SearchPlan,
  candidates: z.array(Candidate),
  groups: z.array(CandidateGroup).describe('coefficient sets with at least one finished or waiting candidate, best mean accuracy first'),
  paretoFlops: z.array(z.number().int()).describe('candidate ids on the front of accuracy against FLOPs'),
  paretoTime: z.array(z.number().int()).describe('candidate ids on the front of accuracy against measured time per image'),
  best: z
    .object({ role: CandidateRole, alpha: z.number(), beta: z.number(), gamma: z.number(), candidateId: z.number().int(), meanAcc: z.number() })
    .nullable()
    .describe('the coefficient set with the best mean validation accuracy (not the base)'),
  noise: z.number().nullable().describe('how far apart two seeds of one candidate land, in accuracy: the larger of the seeds seen and the sampling error of the validation subset'),
  verdict: z.array(z.string()).describe('what the results say, in words: the winner, whether it is within noise, against the paper and the baselines'),
});
export type SearchReport = z.infer<typeof SearchReport>;

export const ScalingFamily = z.object({
  id: z.number().int(),
  name: z.string(),
  alpha: z.number(),
  beta: z.number(),
  gamma: z.number(),
  basePhi: z.number(),
  searchId: z.number().int().nullable(),
  candidateId: z.number().int().nullable(),
  createdAt: z.string(),
  example: z.string().describe('the variant id of φ 1 in this family (the model the search measured); change phi= for other sizes'),
});
export type ScalingFamily = z.infer<typeof ScalingFamily>;

export const ExploreRow = z.object({
  label: z.string(),
  model: z.string().describe('variant id'),
  phi: z.number().nullable().describe('φ in the family; null for a published variant'),
  depth: z.number(),
  width: z.number(),
  resolution: z.number().int(),
  blocks: z.number().int(),
  params: z.number().int(),
  flops: z.number(),
  trainingMemoryBytes: z.number().describe('estimated memory of one training step at the batch'),
  secondsPerImage: z.number().nullable().describe("training time per image, from the search's measured speeds by FLOPs; null without a search"),
});
export type ExploreRow = z.infer<typeof ExploreRow>;

const SearchRef = z.object({ project: ProjectPath, searchId: z.number().int('must be a whole number').min(1, 'must be a search id (1 or more)') });

export const scalingCalls = {
  'scale.start': call(
    SearchOptions.extend({ project: ProjectPath }),
    SearchReport,
    'Plan and start a compound-scaling search (α, β, γ) on a stratified subset of the project; returns once it is stored and its first candidate is starting',
  ),
  'scale.resume': call(
    SearchRef.extend({ budgetMinutes: z.number().positive().max(100_000).optional().describe('raise the time budget of the search') }),
    SearchReport,
    'Continue a stopped or interrupted search: finished candidates are kept, a half-trained one goes on from its last epoch',
  ),
  'scale.cancel': call(SearchRef, SearchReport, 'Stop a search after the current step of its candidate (that run keeps its last epoch; resume continues)'),
  'scale.get': call(SearchRef, SearchReport, 'A search with its candidates, Pareto sets, best coefficients and verdict'),
  'scale.wait': call(
    SearchRef.extend({ timeoutSeconds: z.number().positive().optional().describe('give up waiting (the search goes on)') }),
    SearchReport,
    'Wait until a search ends and return its report',
  ),
  'scale.list': call(
    z.object({ project: ProjectPath }),
    z.object({ searches: z.array(SearchReport.pick({ id: true, createdAt: true, updatedAt: true, status: true, reason: true, live: true, elapsedSeconds: true, plan: true, best: true })) }),
    "A project's searches, newest first",
  ),
  'scale.choose': call(
    SearchRef.extend({
      candidateId: z.number().int().min(1).optional().describe("the candidate whose coefficients become the family; default the search's best"),
      name: z.string().trim().min(1, 'name is required').max(80).optional().describe('default "search <id> α…"'),
    }),
    z.object({ family: ScalingFamily }),
    'Keep the coefficients of a search result as a custom family of the project (its base φ with it); train it at any φ',
  ),
  'scale.families': call(z.object({ project: ProjectPath }), z.object({ families: z.array(ScalingFamily) }), "A project's custom families, newest first"),
  'scale.explore': call(
    z.object({
      alpha: z.number().min(1).max(3),
      beta: z.number().min(1).max(3),
      gamma: z.number().min(1).max(3),
      basePhi: Phi.default(0),
      phis: z.array(Phi).min(1).max(40).optional().describe('default: the φ of each B0..B7 size in this family, by FLOPs'),
      batch: BatchSize,
      project: ProjectPath.optional().describe('with searchId: time per image from the measured speeds of that search'),
      searchId: z.number().int().min(1).optional(),
    }),
    z.object({
      family: z.array(ExploreRow).describe('the family at each φ'),
      variants: z.array(ExploreRow).describe('B0..B7 as published'),
      timeBasis: z.string().describe('where the time column comes from, in words'),
    }),
    'How depth, width, resolution, FLOPs, parameters, memory and time grow with φ for a family, against B0..B7',
  ),
} as const;

export const scalingEvents = {
  'scale.updated': z.object({ project: z.string(), searchId: z.number().int(), status: SearchStatus, candidate: Candidate.nullable().describe('the candidate that changed, if one did') }),
} as const;
