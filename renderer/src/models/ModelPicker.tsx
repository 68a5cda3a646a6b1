/**
 * The model picker: every variant side by side (table), their cost against published accuracy
 * (plot), a custom compound-scaling φ, and the pretrained weights of the chosen model (download or
 * import: WeightsPanel). All figures come from the engine (models.list, models.describe), so the UI
 * shows exactly what training will build.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useClient, useReportError, errorMessage } from '../api/client-context';
import type { CallOutput } from '../../../main/contract/contract';
import { PHI_RANGE } from '../../../main/contract/calls-models';
import { BATCH_SIZE, CUSTOM, DEFAULT_BATCH, PHI_STEP, type CustomScaling, type ModelSelection } from './model-selection';
import { VariantTable } from './VariantTable';
import { FlopsAccuracyPlot, type PlotPoint } from './FlopsAccuracyPlot';
import { CustomScalingPanel, type PhiRange } from './CustomScalingPanel';
import { formatFlops, formatMemory, formatParams, formatPhi } from './format';
import { WeightsPanel } from './WeightsPanel';
import { trainModelId } from '../training/train-format';
import { useFamilies } from '../lab/use-families';

export type VariantRow = CallOutput<'models.list'>['variants'][number];
export type Figures = CallOutput<'models.describe'>;

/** Dragging the slider fires many changes; the engine is asked once the hand rests. */
const DESCRIBE_DELAY_MS = 120;
const BATCH_DELAY_MS = 300;
/** the batch sizes models.list accepts, read from the contract so the field cannot offer more */
const MAX_BATCH = BATCH_SIZE.maxValue ?? 4096;
const MIN_BATCH = BATCH_SIZE.minValue ?? 1;
/** The slider spans ±4 of the contract's PHI_RANGE: 128 px networks to B4-sized ones, where a hand can still aim. */
const PHI_SLIDER: PhiRange = { min: Math.max(PHI_RANGE.min, -4), max: Math.min(PHI_RANGE.max, 4), step: PHI_STEP };

export function ModelPicker({ selection, onChange, project }: { selection: ModelSelection; onChange: (next: ModelSelection) => void; project?: string }) {
  const client = useClient();
  // the families kept from the project's scaling searches (the Lab), offered by the custom panel
  const families = useFamilies(project);
  const reportError = useReportError();
  const { batch, custom } = selection;
  const [list, setList] = useState<CallOutput<'models.list'> | null>(null);
  const [listProblem, setListProblem] = useState<string | null>(null);
  const [customFigures, setCustomFigures] = useState<Figures | null>(null);
  const [customPending, setCustomPending] = useState(false);
  const [customProblem, setCustomProblem] = useState<string | null>(null);
  // bumped after a download or an import: the table's "weights here" column is read again
  const [weightsVersion, setWeightsVersion] = useState(0);
  const weightsChanged = useCallback(() => setWeightsVersion((v) => v + 1), []);

  useEffect(() => {
    let current = true;
    client.call('models.list', { batch }).then(
      (result) => {
        if (!current) return;
        setList(result);
        setListProblem(null);
      },
      (err) => {
        if (!current) return;
        setListProblem(errorMessage(err));
        reportError(err, 'Cannot list the models');
      },
    );
    return () => {
      current = false;
    };
  }, [client, batch, reportError, weightsVersion]);

  // Only the latest answer counts: a slow reply for an old φ must not overwrite a newer one.
  const describeSeq = useRef(0);
  const customKey = JSON.stringify(custom);
  useEffect(() => {
    const seq = ++describeSeq.current;
    setCustomPending(true);
    const timer = setTimeout(() => {
      client.call('models.describe', { custom: JSON.parse(customKey) as CustomScaling, batch }).then(
        (figures) => {
          if (seq !== describeSeq.current) return;
          setCustomFigures(figures);
          setCustomProblem(null);
          setCustomPending(false);
        },
        (err) => {
          if (seq !== describeSeq.current) return;
          setCustomProblem(errorMessage(err));
          setCustomPending(false);
        },
      );
    }, DESCRIBE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [client, customKey, batch, weightsVersion]);

  const rows = list?.variants ?? [];
  const customLabel = `Custom φ = ${formatPhi(custom.phi)}`;
  const select = (variant: string) => onChange({ ...selection, variant });
  const b0 = rows.find((r) => r.id === 'b0') ?? null;

  const points: PlotPoint[] = useMemo(() => {
    const named = rows.map((r) => ({ id: r.id, label: shortLabel(r.id), name: r.name, family: r.family, flops: r.flops, top1: r.top1 }));
    if (!customFigures) return named;
    return [...named, { id: CUSTOM, label: `φ=${formatPhi(custom.phi)}`, name: customFigures.name, family: 'custom' as const, flops: customFigures.flops, top1: null }];
  }, [rows, customFigures, custom.phi]);

  const chosen = selection.variant === CUSTOM ? customFigures : rows.find((r) => r.id === selection.variant) ?? null;

  return (
    <div className="model-picker" data-testid="model-picker">
      <div className="picker-bar">
        <div>
          <h2>Model</h2>
          <p className="muted small">Cost and published ImageNet accuracy of each EfficientNet; pick one to train. Figures are for a 1000-class head.</p>
        </div>
        <BatchField batch={batch} onBatch={(next) => onChange({ ...selection, batch: next })} />
        <div className="picker-choice" data-testid="picker-choice">
          <span className="muted small">Selected</span>
          <strong data-testid="picker-choice-name">{selection.variant === CUSTOM ? customLabel : (chosen?.name ?? selection.variant)}</strong>
          {chosen && (
            <span className="small muted">
              {chosen.resolution} px · {formatParams(chosen.params)} M params · {formatFlops(chosen.flops)} GFLOPs · {formatMemory(chosen.trainingMemoryBytes)} at batch {batch}
            </span>
          )}
        </div>
      </div>

      <div className="picker-top">
        <section className="card picker-table-card">
          {list ? (
            <VariantTable rows={rows} custom={customFigures} customLabel={customLabel} batch={batch} selected={selection.variant} onSelect={select} />
          ) : listProblem ? (
            <p className="inline-error" data-testid="models-problem">
              Cannot list the models: {listProblem}
            </p>
          ) : (
            <p className="muted">
              <span className="spinner" /> Reading the model table…
            </p>
          )}
          <p className="muted small table-note">
            Training memory is Effitune's estimate for one tf.js training step (activations and their gradients, weights, Adam state); it grows linearly with the batch size.
            Weights here: the Keras ImageNet files in the app's data folder, with the classifier ("with top") or without it ("no top", enough for fine-tuning).
          </p>
        </section>
        <div className="picker-side">
          <section className="card picker-plot-card">
            <h2>FLOPs against accuracy</h2>
            <FlopsAccuracyPlot points={points} selectedId={selection.variant} onSelect={select} />
          </section>
          <CustomScalingPanel
            scaling={custom}
            onChange={(next) => onChange({ ...selection, custom: next })}
            phiRange={PHI_SLIDER}
            figures={customFigures}
            pending={customPending}
            problem={customProblem}
            b0Flops={b0?.flops ?? null}
            batch={batch}
            families={families}
            selected={selection.variant === CUSTOM}
            onSelect={() => select(CUSTOM)}
          />
        </div>
      </div>
      <WeightsPanel variant={trainModelId(selection)} name={selection.variant === CUSTOM ? customLabel : (chosen?.name ?? selection.variant)} onChanged={weightsChanged} />
    </div>
  );
}

/** "b0" → "B0", "v2-s" → "V2-S": what fits beside a point. */
function shortLabel(id: string): string {
  return id.toUpperCase();
}

function BatchField({ batch, onBatch }: { batch: number; onBatch: (batch: number) => void }) {
  const [text, setText] = useState(String(batch));
  const parsed = Number(text);
  const valid = Number.isInteger(parsed) && parsed >= MIN_BATCH && parsed <= MAX_BATCH;
  // the parent passes a fresh callback each render; the pending change must survive those renders
  const latest = useRef(onBatch);
  latest.current = onBatch;
  useEffect(() => {
    if (!valid || parsed === batch) return;
    const timer = setTimeout(() => latest.current(parsed), BATCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [valid, parsed, batch]);
  return (
    <label className="batch-field">
      <span>Batch size</span>
      <input type="number" min={MIN_BATCH} max={MAX_BATCH} step={1} value={text} onChange={(e) => setText(e.target.value)} aria-invalid={!valid} data-testid="batch-input" placeholder={String(DEFAULT_BATCH)} />
      {!valid && <span className="field-problem small">a whole number from {MIN_BATCH} to {MAX_BATCH}</span>}
    </label>
  );
}
