/**
 * Training setup: the model (shared with the Model tab), mode, the weights to start from (the
 * model's pretrained weights by default when the cache holds them), epochs, batch, backend, optimizer,
 * learning rate, seed and augmentation, with an estimate before anything starts: the memory one
 * step needs (models.describe) and the time per epoch and in all, measured on the backend the run
 * would use (train.estimate: a few timed steps in a worker; asked again, debounced, when the choice
 * or the split changes, answered from the engine's cache when it measured that choice before).
 * Errors from train.start (a class with one image, no split, ...) are shown here in words.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useClient, useReportError, errorMessage } from '../api/client-context';
import { mixedPrecisionProblem } from '../api/backend-probe';
import type { CallOutput } from '../../../main/contract/contract';
import type { RunRecord, SplitSummary } from '../../../main/contract/calls-data';
import type { BackendName, BackendProbe } from '../../../main/contract/calls-backend';
import { OptimizerName, TrainMode, type TrainEstimate, type TrainOptions, type TrainPlan, type TrainStarted } from '../../../main/contract/calls-train';
import { PHI_RANGE, RESOLUTION_RANGE } from '../../../main/contract/calls-models';
import { CUSTOM, DEFAULT_BATCH, PHI_STEP, type ModelSelection } from '../models/model-selection';
import { formatMemory, formatPhi } from '../models/format';
import { useWeightsList } from '../models/use-weights-list';
import { resolveWeights } from '../models/weights-choice';
import { WeightsChoiceField } from '../models/WeightsChoiceField';
import { AUGMENT_DEFAULTS, defaultHint, formMode, mixedPrecisionApplies, toTrainOptions, type FieldProblems, type TrainForm } from './train-form';
import { formatDuration, formatRate, trainModelId } from './train-format';
import { RecipeChoices } from './RecipeChoices';

type Figures = CallOutput<'models.describe'>;
type VariantRow = CallOutput<'models.list'>['variants'][number];

const MODE_WORDS: Record<TrainMode, string> = {
  head: 'Head only: the backbone computes features once (cached), only the classifier trains. Seconds.',
  top: 'Top blocks: the classifier and the last N blocks train, BatchNorm frozen.',
  full: 'Full: every layer trains. Slowest; best with enough images.',
};
const OPTIMIZER_WORDS: Record<OptimizerName, string> = { adam: 'Adam', adamw: 'AdamW (decoupled weight decay)', sgd: 'SGD with momentum 0.9' };
const DESCRIBE_DELAY_MS = 250;
/** Measuring takes seconds and a worker process: wait until the user stops typing. */
const ESTIMATE_DELAY_MS = 600;
/** How the backend menu marks a GPU API served by a CPU emulation (SwiftShader): it works, slowly. */
const SOFTWARE_ADAPTER = '(software adapter: for testing, slow)';

interface TrainSetupProps {
  project: string;
  model: ModelSelection;
  onModelChange: (next: ModelSelection) => void;
  form: TrainForm;
  onFormChange: (next: TrainForm) => void;
  probe: BackendProbe | null;
  probeProblem: string | null;
  split: SplitSummary | null;
  history: RunRecord[];
  /** a run of this project is training or paused: one at a time */
  runBusy: boolean;
  onStarted: (info: TrainStarted) => void;
}

export function TrainSetup({ project, model, onModelChange, form, onFormChange, probe, probeProblem, split, history, runBusy, onStarted }: TrainSetupProps) {
  const client = useClient();
  const reportError = useReportError();
  const [variants, setVariants] = useState<VariantRow[]>([]);
  const [figures, setFigures] = useState<Figures | null>(null);
  const [figuresProblem, setFiguresProblem] = useState<string | null>(null);
  const [startProblem, setStartProblem] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const set = <K extends keyof TrainForm>(key: K, value: TrainForm[K]) => onFormChange({ ...form, [key]: value });

  useEffect(() => {
    client.call('models.list', { batch: DEFAULT_BATCH }).then(
      (list) => setVariants(list.variants),
      (err) => reportError(err, 'Cannot list the models'),
    );
  }, [client, reportError]);

  const modelId = trainModelId(model);
  const weightsCache = useWeightsList().list;
  const weights = resolveWeights(form.weights, modelId, weightsCache?.weights ?? null, history);
  const mode = formMode(form, weights.path);
  const parsed = toTrainOptions(form, modelId, weights.path, probe?.defaults.train ?? null);
  const { options } = parsed;
  const problems: FieldProblems = weights.problem ? { ...parsed.problems, weights: weights.problem } : parsed.problems;
  // the recipe's resolution and batch for this data (train.plan), where the form leaves them open
  const [planned, setPlanned] = useState<{ resolution: number; batch: number | null; stepMemory: TrainPlan['stepMemory'] } | null>(null);
  const estimateBatch = options.batch ?? planned?.batch ?? DEFAULT_BATCH;
  const estimateResolution = options.resolution ?? planned?.resolution;

  // Memory of one step at the batch and resolution chosen; only the latest answer counts.
  const describeSeq = useRef(0);
  const describeKey = JSON.stringify({ variant: model.variant, custom: model.custom, batch: estimateBatch, resolution: estimateResolution });
  useEffect(() => {
    const seq = ++describeSeq.current;
    const timer = setTimeout(() => {
      const { variant, custom, batch, resolution } = JSON.parse(describeKey) as { variant: string; custom: ModelSelection['custom']; batch: number; resolution?: number };
      const which = variant === CUSTOM ? { custom } : { variant };
      client.call('models.describe', { ...which, batch, resolution }).then(
        (result) => seq === describeSeq.current && (setFigures(result), setFiguresProblem(null)),
        (err) => seq === describeSeq.current && (setFigures(null), setFiguresProblem(errorMessage(err))),
      );
    }, DESCRIBE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [client, describeKey]);

  const backendName = form.backend || probe?.defaults.train || null;
  const backend = probe?.backends.find((b) => b.name === backendName) ?? null;
  // where the run would step on our engine, its own plans' memory (train.plan) instead of TF.js's estimate
  const engineMemory = planned?.stepMemory?.engine === 'effitune' && planned.stepMemory.backend === backendName ? planned.stepMemory : null;
  const resolution = options.resolution ?? figures?.resolution ?? null;
  const measured = useMemo(() => measuredSpeed(history, modelId, resolution, mode, backendName), [history, modelId, resolution, mode, backendName]);
  const trainImages = split?.totals.train ?? 0;
  // "auto" is measured on the backend the probe says a run would take: the estimator then probes that one only, not the whole ladder
  const probedDefault = probe ? probe.defaults.train : probeProblem ? null : undefined;
  // auto never picks a software adapter; chosen by hand, its measurement takes minutes and a core
  const softwareBackend = Boolean(form.backend && probe?.backends.find((b) => b.name === form.backend)?.softwareGpu);
  // mixed precision needs shader-f16 on a WebGPU that trains (the probe's word; not known: not refused here)
  const mixedProblem = mixedPrecisionProblem(probe);
  const runEstimate = useRunEstimate(project, options, probedDefault, Object.keys(problems).length > 0 || weights.pending, runBusy, split, softwareBackend);

  const start = async () => {
    setStartProblem(null);
    if (Object.keys(problems).length > 0) {
      setStartProblem(Object.entries(problems).map(([field, why]) => `${field}: ${why}`).join('; '));
      return;
    }
    setStarting(true);
    try {
      onStarted(await client.call('train.start', { project, ...options }));
    } catch (err) {
      setStartProblem(errorMessage(err));
    } finally {
      setStarting(false);
    }
  };

  const customPhi = model.variant === CUSTOM;
  return (
    <section className="card train-setup" data-testid="train-setup">
      <h2>Training setup</h2>
      <div className="setup-grid">
        <label className="field">
          <span>Model</span>
          <select className="select" value={model.variant} onChange={(e) => onModelChange({ ...model, variant: e.target.value })} data-testid="train-model">
            {!variants.some((v) => v.id === model.variant) && model.variant !== CUSTOM && <option value={model.variant}>{model.variant.toUpperCase()}</option>}
            {variants.map((v) => (
              <option key={v.id} value={v.id}>
                {v.name} · {v.resolution} px
              </option>
            ))}
            <option value={CUSTOM}>Custom φ = {formatPhi(model.custom.phi)}</option>
          </select>
        </label>
        {customPhi && (
          <label className="field">
            <span>φ</span>
            <input
              type="number"
              step={PHI_STEP}
              min={PHI_RANGE.min}
              max={PHI_RANGE.max}
              value={model.custom.phi}
              onChange={(e) => {
                const phi = Number(e.target.value);
                if (e.target.value !== '' && Number.isFinite(phi) && phi >= PHI_RANGE.min && phi <= PHI_RANGE.max) onModelChange({ ...model, custom: { ...model.custom, phi } });
              }}
              data-testid="train-phi"
            />
          </label>
        )}
        <label className="field">
          <span>Resolution</span>
          <input type="number" min={RESOLUTION_RANGE.min} max={RESOLUTION_RANGE.max} step={8} value={form.resolution} placeholder={figures ? `${figures.resolution} (model's)` : "model's"} onChange={(e) => set('resolution', e.target.value)} aria-invalid={Boolean(problems.resolution)} data-testid="train-resolution" />
        </label>
      </div>

      <div className="field">
        <span>Mode</span>
        <div className="segmented" role="radiogroup" aria-label="Training mode">
          {TrainMode.options.map((m) => (
            <button key={m} role="radio" aria-checked={mode === m} className={mode === m ? 'active' : ''} onClick={() => set('mode', m)} data-testid={`train-mode-${m}`}>
              {m === 'head' ? 'Head only' : m === 'top' ? 'Top blocks' : 'Full'}
            </button>
          ))}
        </div>
        <span className="muted small" data-testid="train-mode-words">
          {form.mode === '' && <>{weights.path ? 'Chosen for the pretrained weights. ' : 'Chosen because there are no pretrained weights to start from (head and top modes need them). '}</>}
          {MODE_WORDS[mode]}
        </span>
      </div>

      <WeightsChoiceField model={modelId} choice={form.weights} resolved={weights} cache={weightsCache?.weights ?? null} runs={history} onChange={(next) => set('weights', next)} />

      <div className="setup-grid">
        {mode === 'top' && (
          <NumberField label="Blocks to train" value={form.topBlocks} placeholder={figures ? `${Math.max(1, Math.round(figures.blocks / 4))} of ${figures.blocks}` : 'a quarter'} problem={problems.topBlocks} onChange={(v) => set('topBlocks', v)} testId="train-top-blocks" hint={defaultHint('topBlocks')} />
        )}
        <NumberField label="Epochs" value={form.epochs} placeholder="auto" problem={problems.epochs} onChange={(v) => set('epochs', v)} testId="train-epochs" hint={defaultHint('epochs')} />
        <NumberField label="Batch size" value={form.batch} placeholder="auto" problem={problems.batch} onChange={(v) => set('batch', v)} testId="train-batch" hint={defaultHint('batch')} />
        <NumberField label="Learning rate" value={form.lr} placeholder="auto" problem={problems.lr} onChange={(v) => set('lr', v)} testId="train-lr" hint={defaultHint('lr')} step="any" />
        <NumberField label="Seed" value={form.seed} placeholder="1" problem={problems.seed} onChange={(v) => set('seed', v)} testId="train-seed" />
        <label className="field">
          <span>Optimizer</span>
          <select className="select" value={form.optimizer} onChange={(e) => set('optimizer', e.target.value as TrainForm['optimizer'])} data-testid="train-optimizer" title={defaultHint('optimizer')}>
            <option value="">auto (Adam)</option>
            {OptimizerName.options.map((o) => (
              <option key={o} value={o}>
                {OPTIMIZER_WORDS[o]}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Backend</span>
          <select className="select" value={form.backend} onChange={(e) => set('backend', e.target.value as TrainForm['backend'])} data-testid="train-backend">
            <option value="">auto{probe ? ` (${probe.defaults.train})` : ''}</option>
            {probe?.backends.map((b) => (
              <option key={b.name} value={b.name} disabled={!b.canTrain}>
                {b.name}
                {b.softwareGpu ? ` ${SOFTWARE_ADAPTER}` : ''}
                {b.canTrain ? (b.device ? ` · ${b.device}` : '') : ' · cannot train here'}
              </option>
            ))}
          </select>
        </label>
        {form.backend === 'webgpu' && mode !== 'head' && (
          <label className="field" title={defaultHint('engine')}>
            <span>Steps on</span>
            <select className="select" value={form.engine} onChange={(e) => set('engine', e.target.value as TrainForm['engine'])} data-testid="train-engine">
              <option value="">Effitune engine (auto)</option>
              <option value="effitune">Effitune engine only</option>
              <option value="tfjs">TF.js WebGPU (fallback)</option>
            </select>
          </label>
        )}
        {mixedPrecisionApplies(form, mode, probe?.defaults.train ?? null) && (
          <label className="field" title={defaultHint('precision')}>
            <span>Precision</span>
            <select className="select" value={form.precision} onChange={(e) => set('precision', e.target.value as TrainForm['precision'])} data-testid="train-precision">
              <option value="fp32">fp32</option>
              <option value="mixed" disabled={mixedProblem !== null && form.precision !== 'mixed'}>
                mixed (float16 activations){mixedProblem ? ` · ${mixedProblem.short}` : ''}
              </option>
            </select>
          </label>
        )}
      </div>
      {mixedPrecisionApplies(form, mode, probe?.defaults.train ?? null) && form.precision === 'mixed' && mixedProblem && (
        <p className="inline-warning small" data-testid="precision-no-f16">
          Mixed precision keeps activations in float16 on the Effitune WebGPU engine, and {mixedProblem.why}: the run would fail. Choose fp32.
        </p>
      )}
      {softwareBackend && (
        <p className="inline-warning small" data-testid="backend-software-note">
          {form.backend} {SOFTWARE_ADAPTER}: a CPU emulates the GPU{backend?.device ? ` (${backend.device})` : ''}. Good for checking that it works; training and its estimate take far longer than on wasm or cpu.
        </p>
      )}
      <BackendNotes probe={probe} problem={probeProblem} />

      <div className="field">
        <span>Augmentation {mode === 'head' && <span className="muted small">(head mode trains on cached features: never augmented)</span>}</span>
        <div className="augment-toggles">
          {(
            [
              ['randomCrop', 'Random resized crop'],
              ['flip', 'Horizontal flip'],
              ['rotation', `Rotation ± ${AUGMENT_DEFAULTS.rotationDegrees}°`],
              ['colour', `Colour jitter ± ${Math.round(AUGMENT_DEFAULTS.brightness * 100)} %`],
            ] as const
          ).map(([key, label]) => (
            <label key={key} className="checkbox">
              <input type="checkbox" checked={form.augment[key]} disabled={mode === 'head'} onChange={(e) => set('augment', { ...form.augment, [key]: e.target.checked })} data-testid={`augment-${key}`} />
              {label}
            </label>
          ))}
        </div>
        {mode !== 'head' && (
          <span className="muted small" data-testid="augment-note">
            All on, as they start: how much to crop and whether to jitter colour are fitted to your images (see the estimate below). Changing one sets ImageNet's: crops of {Math.round(AUGMENT_DEFAULTS.scaleMin * 100)}–{Math.round(AUGMENT_DEFAULTS.scaleMax * 100)} % of the image, jitter of all three colour properties.
          </span>
        )}
      </div>

      <div className="estimate" data-testid="train-estimate">
        <h3>Estimate</h3>
        {engineMemory ? (
          <p>
            <strong data-testid="estimate-memory">{Number.isFinite(engineMemory.bytes) ? formatMemory(engineMemory.bytes) : 'more than any GPU holds'}</strong> per training step at batch {engineMemory.batch}
            {options.batch === undefined ? ' (auto batch: at most 32, smaller when it does not fit)' : ''}, {planned?.resolution} px, on the Effitune engine (its step and validation plans, counted).
            <BackendRoom backend={backend} bytes={engineMemory.bytes} />
          </p>
        ) : figures ? (
          <p>
            <strong data-testid="estimate-memory">{formatMemory(figures.trainingMemoryBytes)}</strong> per training step at batch {estimateBatch}
            {options.batch === undefined ? (planned?.batch ? ' (the recipe’s batch for this data)' : ' (auto batch: at most 32, smaller when it does not fit)') : ''}, {figures.resolution} px
            {mode !== 'full' ? '; estimated for training every layer, so head and top modes need less' : ''}.
            <BackendRoom backend={backend} bytes={figures.trainingMemoryBytes} />
          </p>
        ) : figuresProblem ? (
          <p className="inline-error">Cannot estimate this model: {figuresProblem}</p>
        ) : (
          <p className="muted">
            <span className="spinner" /> Estimating…
          </p>
        )}
        <RecipeChoices project={project} options={options} invalid={Object.keys(problems).length > 0 || weights.pending} splitKey={JSON.stringify(split?.totals ?? null)} memoryOn={probe?.defaults.train} onPlan={(plan) => setPlanned(plan ? { resolution: plan.config.resolution, batch: plan.config.batch, stepMemory: plan.stepMemory } : null)} />
        <MeasuredEstimate estimate={runEstimate} mode={mode} />
        {measured && trainImages > 0 ? (
          <p className="muted small" data-testid="estimate-time">
            Run #{measured.runId} trained this model at {formatRate(measured.imagesPerSecond)} images/s on {measured.backend}: its training steps take ≈ {formatDuration(trainImages / measured.imagesPerSecond)} per epoch for {trainImages} training images.
          </p>
        ) : null}
      </div>

      {startProblem && (
        <p className="inline-error" data-testid="train-start-error">
          Cannot start training: {startProblem}
        </p>
      )}
      <div className="setup-actions">
        <button className="button primary large" onClick={start} disabled={starting || runBusy} data-testid="train-start">
          {starting ? <span className="spinner" /> : null}
          {starting ? 'Starting…' : 'Start training'}
        </button>
        {runBusy && (
          <span className="muted small" data-testid="train-busy">
            {history.find((r) => r.status === 'running' || r.status === 'paused' || r.status === 'queued')?.status === 'paused' ? 'A run of this project is paused: resume it, or cancel it, before starting another.' : 'A run of this project is training: let it finish, or cancel it, before starting another.'}
          </span>
        )}
      </div>
    </section>
  );
}

type RunEstimateState =
  | { kind: 'waiting'; why: string }
  | { kind: 'confirm'; backend: string }
  | { kind: 'measuring'; backend: string | null; software: boolean; since: number }
  | { kind: 'ready'; estimate: TrainEstimate }
  | { kind: 'failed'; problem: string }
  | { kind: 'cancelled'; software: boolean };

interface RunEstimate {
  state: RunEstimateState;
  /** stop waiting for the measurement in progress (its answer is ignored) */
  cancel: () => void;
  /** measure now: a software adapter after the user agreed, or again after a failure or a cancel */
  measure: () => void;
}

/**
 * train.estimate for the options as they stand, asked again (debounced) when they or the split
 * change; only the latest answer counts. Not asked while a run of the project trains: the timed
 * steps would slow it down and be slowed down by it. On a software adapter (a CPU emulating a
 * GPU) measuring takes minutes of a core, so it waits for the user's go; any measurement can be
 * cancelled from the page, and a failure shows here in words.
 */
function useRunEstimate(project: string, options: TrainOptions, defaultBackend: BackendName | null | undefined, invalid: boolean, runBusy: boolean, split: SplitSummary | null, software: boolean): RunEstimate {
  const client = useClient();
  const [state, setState] = useState<RunEstimateState>({ kind: 'waiting', why: 'Time per epoch: about to measure…' });
  // the request key the user cancelled, and the one they asked to measure (software adapters, retries)
  const [dropped, setDropped] = useState<string | null>(null);
  const [approved, setApproved] = useState<{ key: string; attempt: number } | null>(null);
  const seq = useRef(0);
  const backend = options.backend ?? defaultBackend;
  const key = JSON.stringify({ options: { ...options, backend: backend ?? undefined }, train: split?.totals.train ?? null, val: split?.totals.val ?? null });
  const attempt = approved?.key === key ? approved.attempt : 0;
  const mayMeasure = !software || approved?.key === key;
  useEffect(() => {
    const mine = ++seq.current;
    if (invalid) return setState({ kind: 'waiting', why: 'Time per epoch: correct the fields marked above to estimate it.' });
    if (runBusy) return setState({ kind: 'waiting', why: 'Time per epoch: measured again once no run of this project trains (measuring now would slow the run down).' });
    if (backend === undefined) return setState({ kind: 'waiting', why: 'Time per epoch: measured once the compute backends are checked…' });
    if (dropped === key) return setState({ kind: 'cancelled', software });
    if (!mayMeasure) return setState({ kind: 'confirm', backend: backend ?? 'this backend' });
    const asked = (JSON.parse(key) as { options: TrainOptions }).options;
    // an estimate of the previous choice must not stand for this one, even for the debounce's moment
    setState({ kind: 'measuring', backend: asked.backend ?? null, software, since: Date.now() });
    const timer = setTimeout(() => {
      client.call('train.estimate', { project, ...asked }).then(
        (estimate) => mine === seq.current && setState({ kind: 'ready', estimate }),
        (err) => mine === seq.current && setState({ kind: 'failed', problem: errorMessage(err) }),
      );
    }, ESTIMATE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [client, project, key, invalid, runBusy, backend, dropped, mayMeasure, software, attempt]);
  return {
    state,
    cancel: () => {
      setDropped(key);
      // stop the measurement itself, not only the wait: a software adapter burns a core for minutes
      client.call('train.estimateCancel', {}).catch(() => undefined);
    },
    measure: () => {
      setDropped(null);
      setApproved({ key, attempt: attempt + 1 });
    },
  };
}

/** The measured time per epoch and in all, and the memory at the batch the run would use. */
function MeasuredEstimate({ estimate, mode }: { estimate: RunEstimate; mode: TrainMode }) {
  const { state, cancel, measure } = estimate;
  if (state.kind === 'waiting') return <p className="muted" data-testid="estimate-measured">{state.why}</p>;
  if (state.kind === 'confirm') {
    return (
      <p className="muted" data-testid="estimate-measured" data-state="confirm">
        Time per epoch: {state.backend} runs on a software adapter (a CPU emulating a GPU), for testing: measuring takes minutes of a whole core.{' '}
        <button className="button small" onClick={measure} data-testid="estimate-measure">
          Measure anyway
        </button>
      </p>
    );
  }
  if (state.kind === 'failed') {
    return (
      <p className="inline-error" data-testid="estimate-measured" data-state="failed">
        Cannot estimate the time: {state.problem}{' '}
        <button className="button small" onClick={measure} data-testid="estimate-measure">
          Measure again
        </button>
      </p>
    );
  }
  if (state.kind === 'cancelled') {
    return (
      <p className="muted" data-testid="estimate-measured" data-state="cancelled">
        Estimate cancelled: the measurement was stopped.{' '}
        <button className="button small" onClick={measure} data-testid="estimate-measure">
          Measure
        </button>
      </p>
    );
  }
  if (state.kind === 'measuring') {
    return (
      <p className="muted" data-testid="estimate-measured" data-state="measuring">
        <span className="spinner" /> Measuring: timing a few training steps of this model on {state.backend ?? 'the backend the run would use'}
        {state.software ? ' (a software adapter: minutes)' : ''}… <Elapsed since={state.since} />{' '}
        <button className="button small" onClick={cancel} data-testid="estimate-cancel">
          Cancel
        </button>
      </p>
    );
  }
  const e: TrainEstimate = state.estimate;
  return (
    <>
      <p data-testid="estimate-measured" data-basis={e.basis} title={e.explanation}>
        About <strong>{formatStep(e.secondsPerEpoch)}</strong> per epoch on {e.backend} ({e.basis === 'measured' ? 'measured' : 'from an earlier run'}), {e.epochs} epoch{e.epochs === 1 ? '' : 's'} ≈{' '}
        <strong>{formatStep(e.secondsTotal)}</strong>
        {e.embeddingSeconds > 0 ? ` (with ${formatStep(e.embeddingSeconds)} once for the features of ${e.uncachedImages} new images)` : ''}; memory {formatMemory(e.memoryBytes)} at batch {e.batch}
        {mode !== 'full' ? ' (for training every layer; this mode needs less)' : ''}.
      </p>
      <p className="muted small" data-testid="estimate-detail">
        {e.stepsPerEpoch} steps of {formatStep(e.secondsPerStep)} per epoch for {e.trainImages} training images and {e.valImages} for validation, on {e.device}. {e.batchReason}.
      </p>
    </>
  );
}

/** Seconds since a moment, ticking: a long measurement shows it is alive. */
function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const seconds = Math.floor((now - since) / 1000);
  return seconds >= 2 ? <span className="small">({formatDuration(seconds)})</span> : null;
}

/** A step (and a head-mode epoch) is often well under a second: milliseconds then. */
function formatStep(seconds: number): string {
  return seconds < 1 ? `${Math.max(1, Math.round(seconds * 1000))} ms` : formatDuration(seconds);
}

function NumberField({ label, value, placeholder, problem, onChange, testId, hint, step = '1' }: { label: string; value: string; placeholder: string; problem?: string; onChange: (value: string) => void; testId: string; hint?: string; step?: string }) {
  return (
    <label className="field" title={hint}>
      <span>{label}</span>
      <input type="number" step={step} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} aria-invalid={Boolean(problem)} data-testid={testId} />
      {problem && <span className="field-problem small">{problem}</span>}
    </label>
  );
}

function BackendNotes({ probe, problem }: { probe: BackendProbe | null; problem: string | null }) {
  if (problem) return <p className="inline-error small">Cannot check the compute backends: {problem}</p>;
  if (!probe) {
    return (
      <p className="muted small">
        <span className="spinner" /> Checking which compute backends work here…
      </p>
    );
  }
  const unusable = probe.backends.filter((b) => !b.canTrain || b.reason);
  return (
    <details className="backend-notes small" data-testid="backend-notes">
      <summary>
        Training runs on <strong>{probe.defaults.train}</strong> by default · {probe.backends.filter((b) => b.canTrain).length} of {probe.backends.length} backends can train here
      </summary>
      <ul>
        {unusable.map((b) => (
          <li key={b.name}>
            <strong>{b.name}</strong>: {b.reason ?? 'cannot train'}
            {b.install ? <span className="muted"> — {b.install}</span> : null}
          </li>
        ))}
      </ul>
    </details>
  );
}

/** The speed of the newest run of the same network, resolution, mode and backend that finished an epoch. */
function measuredSpeed(history: RunRecord[], model: string, resolution: number | null, mode: string, backend: string | null) {
  const run = history.find((r) => r.variant === model && r.resolution === resolution && r.config.mode === mode && r.backend === backend && r.lastEpoch && r.lastEpoch.imagesPerSecond > 0);
  return run?.lastEpoch ? { runId: run.id, backend: run.backend, imagesPerSecond: run.lastEpoch.imagesPerSecond } : null;
}

/** What the backend has beside what a step needs: a warning when it is less (the run then halves the batch). */
function BackendRoom({ backend, bytes }: { backend: { name: string; memoryBytes: number | null; memorySource?: string | null } | null; bytes: number }) {
  if (!backend?.memoryBytes) return null;
  const tooLittle = bytes > backend.memoryBytes;
  return (
    <span className={tooLittle ? ' inline-warning' : ' muted'}>
      {' '}
      {backend.name} has {formatMemory(backend.memoryBytes)}
      {backend.memorySource ? ` (${backend.memorySource})` : ''}
      {tooLittle ? ': too little; the run will halve the batch until it fits.' : '.'}
    </span>
  );
}
