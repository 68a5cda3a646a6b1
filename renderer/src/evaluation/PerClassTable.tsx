/**
 * Precision, recall, F1, support and predicted count per class, sortable by any column (click a
 * header; again to reverse). Undefined values (a class never predicted, or absent from the
 * split) read "—" and always sort last. Clicking a row shows that class's images.
 */
import { useMemo, useState } from 'react';
import type { ClassMetrics } from '../../../main/contract/calls-eval';
import { formatRatio } from './eval-format';

type Column = keyof ClassMetrics;

const COLUMNS: { key: Column; label: string; numeric: boolean; title: string }[] = [
  { key: 'className', label: 'Class', numeric: false, title: 'class name' },
  { key: 'precision', label: 'Precision', numeric: true, title: 'of the images predicted as this class, the fraction that are' },
  { key: 'recall', label: 'Recall', numeric: true, title: 'of the images of this class, the fraction found' },
  { key: 'f1', label: 'F1', numeric: true, title: 'harmonic mean of precision and recall' },
  { key: 'support', label: 'Support', numeric: true, title: 'images of this class in the split' },
  { key: 'predicted', label: 'Predicted', numeric: true, title: 'images predicted as this class' },
];

export interface SortState {
  key: Column;
  descending: boolean;
}

/** Sorted copy; nulls last in both directions so "—" never hides the real values. */
export function sortClassMetrics(rows: ClassMetrics[], { key, descending }: SortState): ClassMetrics[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null && y === null) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    if (typeof x === 'string' && typeof y === 'string') return sign * x.localeCompare(y);
    return sign * ((x as number) - (y as number));
  });
}

export function PerClassTable({ rows, activeClass, onPickClass }: { rows: ClassMetrics[]; activeClass?: string; onPickClass?: (className: string) => void }) {
  // The project's class order until the user sorts.
  const [sort, setSort] = useState<SortState | null>(null);
  const sorted = useMemo(() => (sort ? sortClassMetrics(rows, sort) : rows), [rows, sort]);
  const clickHeader = (key: Column, numeric: boolean) =>
    setSort((s) => (s?.key === key ? { key, descending: !s.descending } : { key, descending: numeric }));

  return (
    <div className="per-class-scroll">
      <table className="table per-class-table" data-testid="per-class-table" data-sort={sort ? `${sort.key}-${sort.descending ? 'desc' : 'asc'}` : 'none'}>
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c.key} className={c.numeric ? 'num' : ''} aria-sort={sort?.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'} title={c.title}>
                <button type="button" className="sort-header" onClick={() => clickHeader(c.key, c.numeric)} data-testid={`per-class-sort-${c.key}`}>
                  {c.label}
                  <span className="sort-mark" aria-hidden>
                    {sort?.key === c.key ? (sort.descending ? '▼' : '▲') : ''}
                  </span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => (
            <tr key={row.className} className={row.className === activeClass ? 'active' : ''} onClick={() => onPickClass?.(row.className)} data-testid="per-class-row" data-class={row.className}>
              <td className="class-cell" title={row.className}>
                {row.className}
              </td>
              <td className="num" data-col="precision">
                {formatRatio(row.precision)}
              </td>
              <td className="num" data-col="recall">
                {formatRatio(row.recall)}
              </td>
              <td className="num" data-col="f1">
                {formatRatio(row.f1)}
              </td>
              <td className="num" data-col="support">
                {row.support}
              </td>
              <td className="num" data-col="predicted">
                {row.predicted}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
