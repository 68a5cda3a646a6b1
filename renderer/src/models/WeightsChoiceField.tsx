/**
 * The Train setup's "Weights" field: auto (the model's pretrained weights when the cache holds
 * them), one of those files, an earlier run's model, a path, or from scratch; below it, in words,
 * what the run will start from.
 */
import type { LocalWeights } from '../../../main/contract/calls-models';
import type { RunRecord } from '../../../main/contract/calls-data';
import { runsOfModel, type ResolvedWeights, type WeightsChoice } from './weights-choice';
import { defaultWeights, weightsLabel } from './weights-words';
import { formatPercent } from '../training/train-format';
import './weights-panel.css';

function valueOf(choice: WeightsChoice): string {
  if (choice.kind === 'cache') return `cache:${choice.id}`;
  if (choice.kind === 'run') return `run:${choice.runId}`;
  return choice.kind;
}

function choiceOf(value: string, previous: WeightsChoice): WeightsChoice {
  if (value.startsWith('cache:')) return { kind: 'cache', id: value.slice('cache:'.length) };
  if (value.startsWith('run:')) return { kind: 'run', runId: Number(value.slice('run:'.length)) };
  if (value === 'file') return { kind: 'file', path: previous.kind === 'file' ? previous.path : '' };
  if (value === 'none') return { kind: 'none' };
  return { kind: 'auto' };
}

export function WeightsChoiceField({
  model,
  choice,
  resolved,
  cache,
  runs,
  onChange,
}: {
  model: string;
  choice: WeightsChoice;
  resolved: ResolvedWeights;
  cache: readonly LocalWeights[] | null;
  runs: readonly RunRecord[];
  onChange: (next: WeightsChoice) => void;
}) {
  const own = cache?.filter((w) => w.variant === model) ?? [];
  const earlier = runsOfModel(runs, model);
  const auto = cache === null ? 'Auto' : `Auto: ${defaultWeights(cache, model) ? 'pretrained' : 'from scratch (none here)'}`;
  const effective = resolved.effective;
  return (
    <div className="field" data-testid="train-weights-field">
      <span>Weights</span>
      <select className="select" value={valueOf(effective)} onChange={(e) => onChange(choiceOf(e.target.value, choice))} data-testid="train-weights">
        <option value="auto">{auto}</option>
        {own.length > 0 && (
          <optgroup label="Pretrained, on this machine">
            {own.map((w) => (
              <option key={w.id} value={`cache:${w.id}`}>
                {weightsLabel(w)}
              </option>
            ))}
          </optgroup>
        )}
        {earlier.length > 0 && (
          <optgroup label="An earlier run's model">
            {earlier.map((r) => (
              <option key={r.id} value={`run:${r.id}`}>
                Run #{r.id}
                {r.lastEpoch?.valAcc != null ? ` · ${formatPercent(r.lastEpoch.valAcc)} validation accuracy` : ''}
              </option>
            ))}
          </optgroup>
        )}
        <option value="file">A weights file or model folder…</option>
        <option value="none">None: train from scratch</option>
      </select>
      {choice.kind === 'file' && (
        <input value={choice.path} onChange={(e) => onChange({ kind: 'file', path: e.target.value })} placeholder="/path/to/weights.h5, .safetensors, or a TF.js model folder" aria-invalid={Boolean(resolved.problem)} data-testid="train-weights-path" />
      )}
      <span className={`small weights-choice-note${resolved.path ? '' : ' muted'}`} data-testid="train-weights-note" data-from-scratch={resolved.path ? 'false' : 'true'}>
        {resolved.problem ?? resolved.words}
      </span>
    </div>
  );
}
