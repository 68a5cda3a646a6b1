import type { EpochRecord } from '../../contract/calls-data';
import { fitProgressLine } from '../progress-bar';
import type { TrainEstimate, TrainOutcome, TrainPlan, TrainProgress, TrainStarted } from '../../contract/calls-train';
import type { Client } from '../../contract/client';
import { ApiError } from '../../contract/contract';
import type { Command, CommandInput } from '../command';
import { formatDuration, formatSeconds } from '../durations';
import { EXIT, exitCodeOfRun } from '../exit-codes';
import { resolvePathArg } from '../paths';
import { fromFlags } from '../user-input';
import { formatTable } from '../text-table';

/** Options that configure a new run; --resume continues a run with its stored configuration instead. */
const CONFIG_OPTIONS = [
  'model', 'phi', 'alpha', 'beta', 'gamma', 'base-phi', 'resolution', 'mode', 'epochs', 'batch', 'seed', 'weights', 'top-blocks', 'lr', 'optimizer',
  'weight-decay', 'warmup-epochs', 'label-smoothing', 'imbalance', 'dropout', 'drop-connect', 'patience', 'no-augment', 'bn-momentum', 'freeze-bn',
  'allow-random-backbone', 'engine', 'precision',
] as const;

export const trainCommand: Command = {
  words: ['train'],
  args: ['project'],
  optionsUsage: '--model b0..b7|v2-b0..v2-l|custom [--phi X] [--resolution PX] [--mode head|top|full] [--epochs N] [--batch N] [--backend NAME] [--seed N] [--weights PATH] [--resume RUN] [--estimate] [--plan]',
  summary: 'Train (fine-tune) a model on the labeled, split images of a project',
  details: [
    '--model M         b0..b7, v2-b0..v2-b3, v2-s, v2-m, v2-l, or custom (with --phi)',
    '--phi X           custom compound scaling: depth 1.2^X, width 1.1^X, resolution 1.15^X·224 (--alpha/--beta/--gamma change the bases;',
    '                  --base-phi B scales from B0 scaled to φ B by the paper\'s coefficients, as a family found by `effitune scale` does)',
    "--resolution PX   input size (default: the model's)",
    '--mode M          head: train the classifier on cached backbone features (seconds); top: also the last --top-blocks blocks,',
    '                  BatchNorm frozen; full: every layer (default: head with --weights, full without)',
    '--epochs N        default head 20, top 15, full 30; early stopping after --patience epochs without a better validation loss (default 5, 0 = off)',
    "--batch N         default: the largest (at most 32) that fits the backend's memory; halved automatically on out-of-memory",
    '--backend NAME    tfjs-node-gpu, tfjs-node, webgpu, wasm or cpu (default: the best that can train here; see `effitune doctor`)',
    '--engine E        who computes full/top steps on webgpu: effitune (default there: our static-graph WebGPU engine; implies',
    '                  --backend webgpu) or tfjs (TF.js\'s WebGPU backend, the fallback; a run left to the default falls back itself)',
    '--precision P     fp32 (default) or mixed: the engine keeps activations in float16 (about a third less GPU memory, a larger batch',
    '                  fits; weights and arithmetic stay float32); implies --engine effitune, needs a GPU with shader-f16 (`effitune doctor`)',
    '--weights PATH    .h5 / .safetensors file, a folder holding one, or an earlier run\'s model folder; without it the model trains from scratch',
    '                  (mode head/top without --weights is refused: the frozen backbone would be random; --allow-random-backbone trains it anyway)',
    '--top-blocks N    mode top: how many of the last blocks train (default a quarter)',
    '--lr X            peak learning rate (default head 1e-3; top/full 1e-4 with weights, 1e-3 from scratch); warm-up then cosine decay',
    '--optimizer O     adam (default), adamw (decoupled weight decay, --weight-decay, default 0.01) or sgd (momentum 0.9)',
    '--label-smoothing X (default 0.1) · --imbalance auto|none|weights|sampling · --dropout X · --drop-connect X · --seed N',
    '--no-augment      no training augmentation · --bn-momentum X (BatchNorm moving average, lower for short runs) · --freeze-bn (full mode)',
    '--resume RUN      continue a paused, cancelled, failed or killed run from its last finished epoch, with its own configuration',
    '--estimate        do not train: time a few training steps of this model on the backend it would use and print the time per epoch,',
    '                  the total time and the memory (with --json: the figures)',
    '--plan            do not train: print the configuration the run would use and what the recipe fitted to these images, and why',
    'Progress goes to stderr (a bar on a terminal); Ctrl-C cancels the run after its current step (a second Ctrl-C quits at once).',
  ],
  options: {
    model: { type: 'string' },
    phi: { type: 'string' },
    alpha: { type: 'string' },
    beta: { type: 'string' },
    gamma: { type: 'string' },
    'base-phi': { type: 'string' },
    resolution: { type: 'string' },
    mode: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    backend: { type: 'string' },
    seed: { type: 'string' },
    weights: { type: 'string' },
    'top-blocks': { type: 'string' },
    lr: { type: 'string' },
    optimizer: { type: 'string' },
    'weight-decay': { type: 'string' },
    'warmup-epochs': { type: 'string' },
    'label-smoothing': { type: 'string' },
    imbalance: { type: 'string' },
    dropout: { type: 'string' },
    'drop-connect': { type: 'string' },
    patience: { type: 'string' },
    'no-augment': { type: 'boolean' },
    'bn-momentum': { type: 'string' },
    'freeze-bn': { type: 'boolean' },
    'allow-random-backbone': { type: 'boolean' },
    resume: { type: 'string' },
    estimate: { type: 'boolean' },
    engine: { type: 'string' },
    precision: { type: 'string' },
    plan: { type: 'boolean' },
  },
  fields: {
    project: '<project>',
    model: '--model',
    resolution: '--resolution',
    mode: '--mode',
    epochs: '--epochs',
    batch: '--batch',
    backend: '--backend',
    seed: '--seed',
    weights: '--weights',
    topBlocks: '--top-blocks',
    lr: '--lr',
    optimizer: '--optimizer',
    weightDecay: '--weight-decay',
    warmupEpochs: '--warmup-epochs',
    labelSmoothing: '--label-smoothing',
    imbalance: '--imbalance',
    dropout: '--dropout',
    dropConnect: '--drop-connect',
    patience: '--patience',
    bnMomentum: '--bn-momentum',
    allowRandomBackbone: '--allow-random-backbone',
    engine: '--engine',
    precision: '--precision',
    runId: '--resume',
  },
  async run(input) {
    const project = resolvePathArg(input.positionals[0])!;
    if (input.values.estimate === true) return estimateRun(input, project);
    if (input.values.plan === true) return planRun(input, project);
    const client = input.client();
    const display = new TrainDisplay(input);
    const stopEvents = display.follow(client, project);
    let runId: number | null = null;
    let cancelling = false;
    const onInterrupt = () => {
      if (cancelling || runId === null) process.exit(EXIT.interrupted);
      cancelling = true;
      display.clear();
      input.stderr.write(`Cancelling run ${runId} after its current step... (press Ctrl-C again to quit at once)\n`);
      client.call('train.cancel', { project, runId }).catch(() => undefined);
    };
    process.on('SIGINT', onInterrupt);
    try {
      const started = input.values.resume !== undefined ? await resumeRun(input, project) : await client.call('train.start', fromFlags({ project, ...configFromFlags(input.values) }));
      runId = started.run.id;
      display.started(started);
      const outcome = await client.call('train.wait', { project, runId });
      display.clear();
      const status = outcome.run.status;
      return { json: outcomeJson(started, outcome), text: formatOutcome(started, outcome), exitCode: exitCodeOfRun(status, outcome.failureCode) };
    } finally {
      process.off('SIGINT', onInterrupt);
      stopEvents();
      display.clear();
    }
  },
};

/** --plan: train.plan's configuration and the recipe's reasons, nothing trained or measured. */
async function planRun(input: CommandInput, project: string): Promise<{ json: TrainPlan; text: string }> {
  if (input.values.resume !== undefined) throw new ApiError('invalid_input', '--plan applies to a new run; leave out --resume');
  const plan = await input.client().call('train.plan', fromFlags({ project, ...configFromFlags(input.values) }));
  const c = plan.config;
  const lines = [
    `${c.model} ${c.mode} at ${c.resolution} px: ${c.epochs} epochs, batch ${c.batch ?? 'auto'}, ${c.optimizer} lr ${c.lr}, ${c.weights ? `from ${c.weights}` : 'from scratch'}${c.engine ? `, on the ${c.engine === 'effitune' ? 'Effitune engine' : 'TF.js steps'}` : ''}${c.precision === 'mixed' ? ' in mixed precision (float16 activations)' : ''}`,
    plan.recipe.length > 0 ? 'Fitted to these images:' : 'The fixed defaults fit these images (nothing to adapt).',
    ...plan.recipe.map((reason) => `  - ${reason}`),
    ...(plan.stepMemory ? [stepMemoryLine(plan.stepMemory)] : []),
    ...plan.warnings.map((warning) => `warning: ${warning}`),
  ];
  return { json: plan, text: lines.join('\n') };
}

function stepMemoryLine(m: NonNullable<TrainPlan['stepMemory']>): string {
  const bytes = Number.isFinite(m.bytes) ? `${(m.bytes / 2 ** 30).toFixed(2)} GiB` : 'more than a GPU can hold';
  return `Memory: ${bytes} per step at batch ${m.batch} on ${m.backend} (${m.engine === 'effitune' ? "the Effitune engine's step and validation plans, counted" : "TF.js's estimate"})`;
}

/** --estimate: the figures of train.estimate, nothing trained. */
async function estimateRun(input: CommandInput, project: string): Promise<{ json: TrainEstimate; text: string }> {
  if (input.values.resume !== undefined) throw new ApiError('invalid_input', '--estimate applies to a new run; leave out --resume');
  const estimate = await input.client().call('train.estimate', fromFlags({ project, ...configFromFlags(input.values) }));
  const lines = [
    estimate.explanation,
    `  backend ${estimate.backend} (${estimate.device}), ${estimate.batchReason}`,
    `  ${estimate.stepsPerEpoch} steps per epoch of ${formatSeconds(estimate.secondsPerStep)} each; ${estimate.trainImages} training and ${estimate.valImages} validation images`,
  ];
  return { json: estimate, text: lines.join('\n') };
}

async function resumeRun(input: CommandInput, project: string): Promise<TrainStarted> {
  const given = CONFIG_OPTIONS.filter((name) => input.values[name] !== undefined);
  if (given.length > 0) {
    throw new ApiError('invalid_input', `--resume continues run ${input.values.resume} with its own configuration; leave out ${given.map((g) => `--${g}`).join(', ')}`);
  }
  return input.client().call('train.resume', fromFlags({ project, runId: numberOrText(input.values.resume), backend: input.values.backend }));
}

/** The flags of a new run as the contract's train.start input (the contract checks every value). */
export function configFromFlags(values: CommandInput['values']): Record<string, unknown> {
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const number = (name: string) => numberOrText(values[name]);
  let model = text('model');
  if (model?.trim().toLowerCase() === 'custom') {
    if (values.phi === undefined) throw new ApiError('invalid_input', '--model custom needs --phi X (the compound-scaling exponent, e.g. --phi -3)');
    const parts = [`phi=${text('phi')}`, ...(['alpha', 'beta', 'gamma'] as const).filter((b) => values[b] !== undefined).map((b) => `${b}=${text(b)}`)];
    if (values['base-phi'] !== undefined) parts.push(`base=${text('base-phi')}`);
    model = parts.join(',');
  } else if (values.phi !== undefined || values.alpha !== undefined || values.beta !== undefined || values.gamma !== undefined || values['base-phi'] !== undefined) {
    throw new ApiError('invalid_input', '--phi/--alpha/--beta/--gamma/--base-phi apply to --model custom only');
  }
  return {
    model,
    resolution: number('resolution'),
    mode: text('mode'),
    epochs: number('epochs'),
    batch: number('batch'),
    backend: text('backend'),
    seed: number('seed'),
    weights: resolvePathArg(text('weights')),
    topBlocks: number('top-blocks'),
    lr: number('lr'),
    optimizer: text('optimizer'),
    engine: text('engine'),
    precision: text('precision'),
    weightDecay: number('weight-decay'),
    warmupEpochs: number('warmup-epochs'),
    labelSmoothing: number('label-smoothing'),
    imbalance: text('imbalance'),
    dropout: number('dropout'),
    dropConnect: number('drop-connect'),
    patience: number('patience'),
    augment: values['no-augment'] === true ? false : undefined,
    bnMomentum: number('bn-momentum'),
    freezeBatchNorm: values['freeze-bn'] === true ? true : undefined,
    allowRandomBackbone: values['allow-random-backbone'] === true ? true : undefined,
  };
}

/** "1e-4", ".5", "-3" become numbers; other text passes through for the contract to reject by name. */
function numberOrText(value: string | boolean | undefined): unknown {
  if (typeof value !== 'string' || value.trim() === '') return value;
  const n = Number(value);
  return Number.isFinite(n) ? n : value;
}

/** What the user sees while a run trains: notes and epochs as lines on stderr, and a bar on a terminal. */
class TrainDisplay {
  private barDrawn = false;
  private lastDraw = 0;
  private readonly quiet: boolean;

  constructor(private readonly input: CommandInput) {
    this.quiet = input.json && !input.stderr.isTTY;
  }

  started(s: TrainStarted): void {
    const lines = [
      `Run ${s.run.id}: ${s.run.variant} at ${s.run.resolution} px, mode ${String(s.run.config.mode)}, on ${s.backend} (${s.device}), batch ${s.batch}${s.run.config.precision === 'mixed' ? ', mixed precision (float16 activations)' : ''}`,
      ...(s.resumedFromEpoch !== null ? [`  continuing after epoch ${s.resumedFromEpoch + 1}, from its checkpoint${s.fromScratch ? ' (the run began from scratch: no weights given)' : ''}`] : []),
      ...(s.fromScratch && s.resumedFromEpoch === null ? ['  no weights: training from scratch (random initialisation)'] : []),
      ...s.warnings.map((w) => `  warning: ${w}`),
    ];
    this.line(lines.join('\n'));
  }

  /** Show the events of this project's runs until the returned function is called. */
  follow(client: Client, project: string): () => void {
    const stops = [
      client.on('train.progress', (p) => {
        if (p.project === project) this.bar(p);
      }),
      client.on('train.epoch', (e) => {
        if (e.project === project) this.line(formatEpochLine(e.record, e.epochs, e.isBest));
      }),
      client.on('train.note', ({ project: p, note }) => {
        if (p === project && (note.kind === 'oom' || note.kind === 'skipped')) this.line(`  ${note.kind === 'oom' ? 'out of memory' : 'skipped'}: ${note.message}`);
      }),
      client.on('train.status', (s) => {
        if (s.project === project && s.status === 'paused') this.line(`  paused${s.reason ? `: ${s.reason}` : ''}`);
      }),
    ];
    return () => stops.forEach((stop) => stop());
  }

  clear(): void {
    if (this.barDrawn) this.input.stderr.write('\r\x1b[K');
    this.barDrawn = false;
  }

  private line(text: string): void {
    if (this.quiet) return;
    this.clear();
    this.input.stderr.write(`${text}\n`);
  }

  private bar(p: TrainProgress): void {
    const now = Date.now();
    if (!this.input.stderr.isTTY || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.input.stderr.write(`\r${renderTrainProgress(p, this.input.stderr.columns || 80)}\x1b[K`);
    this.barDrawn = true;
  }
}

export function renderTrainProgress(p: TrainProgress, columns: number): string {
  const fraction = p.batchesPerEpoch > 0 ? Math.min(1, p.batchIndex / p.batchesPerEpoch) : 0;
  const parts = [`epoch ${p.epoch + 1}/${p.epochs}`, p.phase === 'training' ? `batch ${p.batchIndex}/${p.batchesPerEpoch}` : p.phase];
  if (p.phase === 'embedding') parts[1] = `features ${p.batchIndex}/${p.batchesPerEpoch}`;
  if (p.loss !== null) parts.push(`loss ${p.loss.toFixed(3)}`);
  if (p.accuracy !== null) parts.push(`acc ${(p.accuracy * 100).toFixed(0)}%`);
  if (p.imagesPerSecond > 0) parts.push(`${p.imagesPerSecond.toFixed(1)} img/s`);
  if (p.etaSeconds !== null) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  // the bar shrinks and middle parts go before the ETA is ever cut off
  return fitProgressLine(fraction, parts, columns, 20);
}

function formatEpochLine(e: EpochRecord, epochs: number, isBest: boolean): string {
  const val = e.valLoss !== null ? ` · val loss ${e.valLoss.toFixed(4)} acc ${percent(e.valAcc)}` : '';
  return `  epoch ${e.epoch + 1}/${epochs}: loss ${e.trainLoss?.toFixed(4) ?? 'n/a'} acc ${percent(e.trainAcc)}${val} · ${e.imagesPerSecond.toFixed(1)} img/s · ${e.seconds.toFixed(1)} s${isBest ? ' · best' : ''}`;
}

function outcomeJson(started: TrainStarted, o: TrainOutcome) {
  return {
    runId: o.run.id,
    status: o.run.status,
    reason: o.run.reason,
    backend: started.backend,
    device: started.device,
    batch: started.batch,
    fromScratch: started.fromScratch,
    resumedFromEpoch: started.resumedFromEpoch,
    final: o.final,
    baseline: o.run.baseline,
    bestEpoch: o.run.bestEpoch,
    modelDir: o.modelDir,
    epochs: o.epochs,
    notes: o.notes,
    warnings: started.warnings,
    config: o.run.config,
  };
}

function formatOutcome(started: TrainStarted, o: TrainOutcome): string {
  const lines = [`Run ${o.run.id} ${o.run.status} on ${started.backend}: ${o.run.reason ?? ''}`];
  if (o.final) {
    const f = o.final;
    lines.push(`  epoch ${f.epoch + 1}: validation loss ${f.valLoss?.toFixed(4) ?? 'n/a'}, accuracy ${percent(f.valAcc)} · train loss ${f.trainLoss?.toFixed(4) ?? 'n/a'}, accuracy ${percent(f.trainAcc)}`);
  }
  if (o.run.baseline && !o.run.baseline.aboveBaseline) lines.push(`  warning: ${o.run.baseline.warning}`);
  if (started.fromScratch) lines.push('  trained from scratch (no weights given)');
  if (o.modelDir) lines.push(`  model: ${o.modelDir}`);
  const told = o.notes.filter((n) => n.kind === 'oom' || n.kind === 'skipped');
  for (const n of told) lines.push(`  ${n.kind === 'oom' ? 'out of memory' : 'skipped'}: ${n.message}`);
  if (o.run.status === 'failed' || o.run.status === 'cancelled') lines.push(`  continue it with: effitune train <project> --resume ${o.run.id}`);
  return lines.join('\n');
}

export const runsCommand: Command = {
  words: ['runs'],
  args: ['project', 'run?'],
  summary: 'Training runs of a project (newest first), or one run with its epochs',
  fields: { project: '<project>', id: '[run]', runId: '[run]' },
  async run({ positionals: [project, run], client }) {
    const file = resolvePathArg(project)!;
    if (run !== undefined) {
      const id = numberOrText(run) as number;
      const one = await client().call('runs.get', { project: file, id });
      const { notes } = await client().call('train.notes', { project: file, runId: id });
      return { json: { ...one, notes }, text: formatRun(one.run, one.epochs, notes) };
    }
    const { runs } = await client().call('runs.list', { project: file });
    const rows = runs.map((r) => [r.id, statusWords(r), r.variant, String(r.config.mode ?? ''), r.epochCount, r.lastEpoch?.valAcc != null ? percent(r.lastEpoch.valAcc) : '', r.backend ?? '', r.createdAt.slice(0, 19).replace('T', ' ')]);
    const warnings = runs.filter((r) => r.baseline && !r.baseline.aboveBaseline).map((r) => `  * run ${r.id}: ${r.baseline!.warning}`);
    const text = runs.length === 0 ? 'No training runs yet: start one with `effitune train <project> --model ...`' : [formatTable(['RUN', 'STATUS', 'MODEL', 'MODE', 'EPOCHS', 'VAL ACC', 'BACKEND', 'CREATED'], rows), ...(warnings.length ? ['', ...warnings] : [])].join('\n');
    return { json: { runs }, text };
  },
};

export const runsDelete: Command = {
  words: ['runs', 'delete'],
  args: ['project', 'run'],
  optionsUsage: '--yes',
  summary: "Delete a training run: its record, epochs, evaluations and its folder of checkpoints and model (exports elsewhere stay)",
  details: ['--yes   confirm: the run and its files are gone for good (refused while the run trains or is paused: cancel it first)'],
  options: { yes: { type: 'boolean' } },
  fields: { project: '<project>', id: '<run>' },
  async run({ positionals: [project, run], values, client }) {
    const file = resolvePathArg(project)!;
    const id = numberOrText(run) as number;
    if (values.yes !== true) {
      // say what would go, so the user confirms knowing it
      const { run: record } = await client().call('runs.get', { project: file, id });
      throw new ApiError('invalid_input', `deleting run ${id} (${record.variant}, ${record.status}, ${record.epochCount} epochs) removes its record and its folder${record.checkpointDir ? ` ${record.checkpointDir}` : ''} for good: add --yes to confirm`);
    }
    const deleted = await client().call('runs.delete', { project: file, id });
    return { json: deleted, text: `Deleted run ${deleted.id}${deleted.folderExisted ? ` and its folder ${deleted.folder}` : ' (it had no folder)'}` };
  },
};

/** The status as the table shows it: a run whose model is no better than guessing says so beside its status. */
function statusWords(run: TrainOutcome['run']): string {
  return run.baseline && !run.baseline.aboveBaseline ? `${run.status}, no better than guessing *` : run.status;
}

function formatRun(run: TrainOutcome['run'], epochs: EpochRecord[], notes: TrainOutcome['notes']): string {
  const lines = [`Run ${run.id}: ${run.status}${run.reason ? ` (${run.reason})` : ''}`, `  ${run.variant} at ${run.resolution} px · backend ${run.backend ?? 'n/a'} · classes ${run.classes.join(', ')}`];
  if (run.baseline && !run.baseline.aboveBaseline) lines.push(`  warning: ${run.baseline.warning}`);
  if (epochs.length > 0) {
    const rows = epochs.map((e) => [e.epoch + 1, fixed(e.trainLoss), percent(e.trainAcc), fixed(e.valLoss), percent(e.valAcc), e.imagesPerSecond.toFixed(1), e.batch, e.epoch === run.bestEpoch ? 'best' : '']);
    lines.push('', formatTable(['EPOCH', 'LOSS', 'ACC', 'VAL LOSS', 'VAL ACC', 'IMG/S', 'BATCH', ''], rows, '  '));
  }
  for (const n of notes) lines.push(`  ${n.kind}: ${n.message}`);
  return lines.join('\n');
}

function fixed(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(4);
}

function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}
