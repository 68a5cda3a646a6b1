/**
 * The variants side by side: resolution, parameters, FLOPs, training memory at the chosen batch
 * size, published top-1 and the pretrained weights on this machine. A row click selects it.
 */
import type { ReactNode } from 'react';
import { formatFlops, formatMemory, formatParams, formatTop1 } from './format';
import { CUSTOM } from './model-selection';
import type { VariantRow } from './ModelPicker';

const FAMILIES: { family: 'v1' | 'v2'; title: string }[] = [
  { family: 'v1', title: 'EfficientNet (V1)' },
  { family: 'v2', title: 'EfficientNetV2' },
];

export function VariantTable({
  rows,
  custom,
  customLabel,
  batch,
  selected,
  onSelect,
}: {
  rows: VariantRow[];
  custom: VariantRow | null;
  customLabel: string;
  batch: number;
  selected: string;
  onSelect: (id: string) => void;
}) {
  const maxMemory = Math.max(...rows.map((r) => r.trainingMemoryBytes), custom?.trainingMemoryBytes ?? 0);
  return (
    <table className="table variant-table" data-testid="variant-table">
      <thead>
        <tr>
          <th aria-label="selected" />
          <th>Model</th>
          <th className="num">Resolution</th>
          <th className="num">Params</th>
          <th className="num">FLOPs</th>
          <th className="num">Train memory @ batch {batch}</th>
          <th className="num">Top-1</th>
          <th>Weights here</th>
        </tr>
      </thead>
      {FAMILIES.map(({ family, title }) => (
        <tbody key={family}>
          <tr className="group-row">
            <td colSpan={8}>{title}</td>
          </tr>
          {rows
            .filter((r) => r.family === family)
            .map((r) => (
              <Row key={r.id} id={r.id} figures={r} label={r.name} selected={selected === r.id} onSelect={onSelect} maxMemory={maxMemory} weights={<WeightsCell row={r} />} />
            ))}
        </tbody>
      ))}
      <tbody>
        <tr className="group-row">
          <td colSpan={8}>Custom compound scaling</td>
        </tr>
        <Row id={CUSTOM} figures={custom} label={customLabel} selected={selected === CUSTOM} onSelect={onSelect} maxMemory={maxMemory} weights={custom && custom.weights.length > 0 ? <WeightsCell row={custom} /> : <span className="muted small">none published</span>} />
      </tbody>
    </table>
  );
}

function Row({
  id,
  figures,
  label,
  selected,
  onSelect,
  maxMemory,
  weights,
}: {
  id: string;
  figures: VariantRow | null;
  label: string;
  selected: boolean;
  onSelect: (id: string) => void;
  maxMemory: number;
  weights: ReactNode;
}) {
  const cell = (key: string, text: string | undefined, unit: string) => (
    <td className="num" data-testid={`variant-${key}-${id}`}>
      {text === undefined ? '…' : text}
      {text !== undefined && unit && <span className="unit"> {unit}</span>}
    </td>
  );
  return (
    <tr className={selected ? 'selected' : ''} onClick={() => onSelect(id)} data-testid={`variant-row-${id}`} aria-selected={selected}>
      <td>
        <input type="radio" name="model-variant" checked={selected} onChange={() => onSelect(id)} aria-label={`Select ${label}`} />
      </td>
      <td className="model-name">{label}</td>
      {cell('resolution', figures ? String(figures.resolution) : undefined, 'px')}
      {cell('params', figures ? formatParams(figures.params) : undefined, 'M')}
      {cell('flops', figures ? formatFlops(figures.flops) : undefined, 'G')}
      <td className="num" data-testid={`variant-memory-${id}`}>
        {figures ? (
          <span className="memory-cell">
            {/* a bar to the same scale across rows: memory spans 50× between B0 and B7 */}
            <span className="memory-track" aria-hidden>
              <span className="memory-bar" style={{ width: `${Math.max(2, (100 * figures.trainingMemoryBytes) / maxMemory)}%` }} />
            </span>
            <span className="memory-text">{formatMemory(figures.trainingMemoryBytes)}</span>
          </span>
        ) : (
          '…'
        )}
      </td>
      <td className="num" data-testid={`variant-top1-${id}`}>
        {figures ? formatTop1(figures.top1) : '…'}
        {figures?.top1 != null && <span className="unit"> %</span>}
      </td>
      <td data-testid={`variant-weights-${id}`}>{weights}</td>
    </tr>
  );
}

/** Pretrained files in the local cache: with the classifier ("with top"), without ("no top"), or none yet. */
function WeightsCell({ row }: { row: VariantRow }) {
  const top = row.weights.some((w) => w.includeTop);
  const notop = row.weights.some((w) => !w.includeTop);
  if (!top && !notop) {
    const downloadable = row.pretrained.length > 0;
    return (
      <span className="weights-chip none" title={downloadable ? 'Keras publishes ImageNet weights for it: select it and download or import them in "Pretrained weights" below' : 'import a weights file for it in "Pretrained weights" below'}>
        not here
      </span>
    );
  }
  const describe = (w: VariantRow['weights'][number]) => `${w.format}${w.verified ? ', checksum verified' : ''}: ${w.file}`;
  return (
    <span className="weights-cell">
      {top && (
        <span className="weights-chip" title={row.weights.filter((w) => w.includeTop).map(describe).join('\n')}>
          with top
        </span>
      )}
      {notop && (
        <span className="weights-chip" title={row.weights.filter((w) => !w.includeTop).map(describe).join('\n')}>
          no top
        </span>
      )}
    </span>
  );
}
