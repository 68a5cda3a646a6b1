/**
 * The confusion-matrix heatmap: rows are the true classes, columns the predicted ones, in the
 * run's class order. Counts or row-normalised (each row sums to 100 %); clicking a cell asks for
 * exactly those images, clicking a row or column name for the whole row or column. The SVG is
 * drawn at its real size inside a scrolling frame, so 50 classes stay readable.
 */
import { useMemo, useRef, useState } from 'react';
import { cellColor, LABEL_FONT_PX, matrixLayout, rowNormalized, textColor } from './confusion-layout';
import { SaveFigureButtons } from './SaveFigureButtons';

export interface CellChoice {
  trueClass?: string;
  predictedClass?: string;
}

interface ConfusionMatrixProps {
  classes: string[];
  confusion: number[][];
  selected?: CellChoice | null;
  onSelect?: (choice: CellChoice) => void;
  /** smaller cells and names, for two matrices side by side */
  compact?: boolean;
  /** file name of the saved SVG/PNG */
  saveName: string;
  testId?: string;
}

export function ConfusionMatrix({ classes, confusion, selected, onSelect, compact = false, saveName, testId = 'confusion-matrix' }: ConfusionMatrixProps) {
  const [normalized, setNormalized] = useState(false);
  const frame = useRef<HTMLDivElement>(null);
  const layout = useMemo(() => matrixLayout(classes, compact), [classes, compact]);
  const fractions = useMemo(() => rowNormalized(confusion), [confusion]);
  // Counts are coloured on two scales, correct and mistaken, so a few mistakes still stand out
  // next to a full diagonal.
  const maxCorrect = useMemo(() => Math.max(1, ...confusion.map((row, i) => row[i])), [confusion]);
  const maxMistake = useMemo(() => Math.max(1, ...confusion.flatMap((row, i) => row.filter((_, j) => j !== i))), [confusion]);
  const rowTotals = confusion.map((row) => row.reduce((s, v) => s + v, 0));
  const { cell, left, top } = layout;
  const rad = (layout.rotate * Math.PI) / 180;

  const pick = (choice: CellChoice) => onSelect?.(choice);
  const interactive = onSelect !== undefined;
  const isSelected = (t: string, p: string) => selected?.trueClass === t && selected?.predictedClass === p;

  return (
    <figure className={`confusion${compact ? ' compact' : ''}`} data-testid={testId} data-classes={classes.length}>
      <figcaption className="chart-head">
        <span className="chart-title">Confusion matrix</span>
        <span className="confusion-tools">
          <span className="segmented" role="group" aria-label="Cell values">
            <button type="button" className={normalized ? '' : 'active'} aria-pressed={!normalized} onClick={() => setNormalized(false)} data-testid={`${testId}-counts`}>
              Counts
            </button>
            <button type="button" className={normalized ? 'active' : ''} aria-pressed={normalized} onClick={() => setNormalized(true)} data-testid={`${testId}-normalized`}>
              Row %
            </button>
          </span>
          <SaveFigureButtons container={frame} name={saveName} testId={`${testId}-save`} />
        </span>
      </figcaption>
      <div ref={frame} className="confusion-frame">
        <svg className="figure-svg" width={layout.width} height={layout.height} role="img" aria-label={`Confusion matrix of ${classes.length} classes, rows true, columns predicted`} fontSize={LABEL_FONT_PX}>
          <text className="axis-label" x={left + (classes.length * cell) / 2} y={12} textAnchor="middle">
            predicted class →
          </text>
          <text className="axis-label" transform={`translate(12 ${top + (classes.length * cell) / 2}) rotate(-90)`} textAnchor="middle">
            true class →
          </text>
          {layout.labels.map((label, j) => {
            const x = left + j * cell + cell / 2;
            const y = top - 6;
            return (
              <text
                key={`c${j}`}
                className={`matrix-label${interactive ? ' clickable' : ''}`}
                x={layout.rotate === 90 ? x + LABEL_FONT_PX / 2 - 1 : layout.rotate ? x - 3 * Math.cos(rad) : x}
                y={y}
                textAnchor={layout.rotate ? 'start' : 'middle'}
                transform={layout.rotate === 90 ? `rotate(-90 ${x + LABEL_FONT_PX / 2 - 1} ${y})` : layout.rotate ? `rotate(${-layout.rotate} ${x} ${y})` : undefined}
                onClick={() => pick({ predictedClass: classes[j] })}
                data-testid={`${testId}-col-${j}`}
              >
                <title>{`predicted ${classes[j]}: ${confusion.reduce((s, row) => s + row[j], 0)} images${interactive ? ' (click for all of them)' : ''}`}</title>
                {label}
              </text>
            );
          })}
          {layout.labels.map((label, i) => (
            <text
              key={`r${i}`}
              className={`matrix-label${interactive ? ' clickable' : ''}`}
              x={left - 6}
              y={top + i * cell + cell / 2}
              dominantBaseline="central"
              textAnchor="end"
              onClick={() => pick({ trueClass: classes[i] })}
              data-testid={`${testId}-row-${i}`}
            >
              <title>{`true ${classes[i]}: ${rowTotals[i]} images${interactive ? ' (click for all of them)' : ''}`}</title>
              {label}
            </text>
          ))}
          {confusion.map((row, i) =>
            row.map((count, j) => {
              const fraction = fractions[i][j];
              const intensity = normalized ? fraction : i === j ? count / maxCorrect : (0.15 + 0.7 * (count / maxMistake)) * (count > 0 ? 1 : 0);
              const x = left + j * cell;
              const y = top + i * cell;
              const value = normalized ? `${Math.round(fraction * 100)}` : String(count);
              const chosen = isSelected(classes[i], classes[j]);
              return (
                <g
                  key={`${i}-${j}`}
                  className={`matrix-cell${interactive && count > 0 ? ' clickable' : ''}`}
                  role={interactive ? 'button' : undefined}
                  tabIndex={interactive && count > 0 ? 0 : undefined}
                  aria-label={`true ${classes[i]}, predicted ${classes[j]}: ${count}`}
                  onClick={() => count > 0 && pick({ trueClass: classes[i], predictedClass: classes[j] })}
                  onKeyDown={(e) => {
                    if ((e.key === 'Enter' || e.key === ' ') && count > 0) {
                      e.preventDefault();
                      pick({ trueClass: classes[i], predictedClass: classes[j] });
                    }
                  }}
                  data-testid={`${testId}-cell-${i}-${j}`}
                  data-count={count}
                >
                  <title>{`true ${classes[i]} → predicted ${classes[j]}: ${count} image${count === 1 ? '' : 's'} (${(fraction * 100).toFixed(1)} % of ${classes[i]})`}</title>
                  <rect x={x} y={y} width={cell} height={cell} fill={cellColor(intensity, i === j)} stroke="#ffffff" strokeWidth={1} />
                  {layout.showValues && (count > 0 || !normalized) && (
                    <text x={x + cell / 2} y={y + cell / 2} dominantBaseline="central" textAnchor="middle" fill={textColor(intensity)} fontSize={cell >= 40 ? 13 : 11}>
                      {value}
                    </text>
                  )}
                  {chosen && <rect x={x + 1} y={y + 1} width={cell - 2} height={cell - 2} fill="none" stroke="#1d2430" strokeWidth={2.5} />}
                </g>
              );
            }),
          )}
          <text className="axis-label" x={left + classes.length * cell + 6} y={top + classes.length * cell + 14} textAnchor="start">
            <title>images of the true class in the split</title>n
          </text>
          {rowTotals.map((total, i) => (
            <text key={`t${i}`} className="tick-label" x={left + classes.length * cell + 6} y={top + i * cell + cell / 2} dominantBaseline="central">
              {total}
            </text>
          ))}
        </svg>
      </div>
      <p className="muted small confusion-legend">
        Rows: true class · columns: predicted · blue: correct, red: mistakes · {normalized ? 'values are % of the row (the true class)' : 'values are image counts (correct and mistaken cells each on their own colour scale)'}
        {interactive && ' · click a cell for its images, a name for its row or column'}
      </p>
    </figure>
  );
}
