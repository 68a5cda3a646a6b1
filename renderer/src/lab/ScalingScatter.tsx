/**
 * Validation accuracy against cost (FLOPs, or measured training time per image; log x) for the
 * candidates of a search, drawn in the style of the model picker's plot: the Pareto front as a
 * staircase, the depth-, width- and resolution-only baselines as lines from the base network in
 * their own colours, the paper's coefficients marked, the spread over seeds as an error bar, the
 * best point ringed in amber and the chosen one in black. The legend is inside the SVG, so a saved
 * figure carries it. Points are buttons: click, or Tab and Enter.
 * Point labels carry paint-order as an attribute: a saved figure inlines only a fixed list of
 * styles, and without it their white halo would be painted over the text.
 */
import { useMemo } from 'react';
import type { SearchReport } from '../../../main/contract/calls-scaling';
import { linearScale, linearTicks, logScale, logTicks, niceLogDomain, placeLabels } from '../models/scales';
import { useElementWidth } from '../models/use-element-width';
import { formatAccuracy, formatCoefficients, formatMegaFlops, formatMsPerImage, ROLE_MEANING } from './lab-format';
import { accuracyDomain, baselineLines, paretoStaircase, scatterPoints, type CostAxis, type ScatterPoint } from './scatter-data';

const HEIGHT = 360;
const MARGIN = { right: 14, bottom: 40, left: 52 };
const LEGEND_ROW = 18;
const CHAR_WIDTH = 6.4;
const FONT = 11;

interface LegendEntry {
  key: string;
  text: string;
  /** how the sample is drawn */
  kind: 'marker' | 'line' | 'step' | 'bar' | 'hollow';
  className: string;
}

const LEGEND: LegendEntry[] = [
  { key: 'base', text: 'base', kind: 'marker', className: 'role-base' },
  { key: 'compound', text: 'compound α β γ', kind: 'marker', className: 'role-compound' },
  { key: 'paper', text: "paper's 1.2 · 1.1 · 1.15", kind: 'marker', className: 'role-paper' },
  { key: 'depth', text: 'depth only', kind: 'line', className: 'role-depth' },
  { key: 'width', text: 'width only', kind: 'line', className: 'role-width' },
  { key: 'resolution', text: 'resolution only', kind: 'line', className: 'role-resolution' },
  { key: 'front', text: 'Pareto front', kind: 'step', className: 'lab-front' },
  { key: 'spread', text: 'spread over seeds', kind: 'bar', className: 'lab-spread' },
  { key: 'pruned', text: 'pruned', kind: 'hollow', className: 'role-compound out' },
];

export function ScalingScatter({
  report,
  axis,
  selectedId,
  onSelect,
}: {
  report: SearchReport;
  axis: CostAxis;
  selectedId: number | null;
  onSelect: (candidateId: number) => void;
}) {
  const [ref, width] = useElementWidth<HTMLDivElement>(640);
  const points = useMemo(() => scatterPoints(report, axis), [report, axis]);
  const legend = useMemo(() => legendLayout(width), [width]);
  const plot = useMemo(() => layout(points, width, legend.height, axis), [points, width, legend.height, axis]);
  const front = axis === 'flops' ? report.paretoFlops : report.paretoTime;
  const bestId = report.best?.candidateId ?? null;
  const costWords = axis === 'flops' ? 'M multiply-adds per image, log scale' : 'measured training time per image (ms, log scale)';
  const xValue = (cost: number) => axisValue(axis, cost);
  const costText = (cost: number) => (axis === 'flops' ? `${formatMegaFlops(cost)} MFLOPs` : `${formatMsPerImage(cost)} ms/image`);

  const { x, y, inner, xTicks, yTicks, placed } = plot;
  const px = (cost: number) => x(xValue(cost));
  const steps = paretoStaircase(points, front);
  const lines = baselineLines(points);
  const notDrawn = report.candidates.filter((c) => c.repeatOf === null && c.valAcc !== null).length - points.length;

  return (
    <div ref={ref} className="plot-frame lab-scatter" data-testid={`lab-scatter-${axis}`} data-points={points.length}>
      <svg width={width} height={HEIGHT} role="img" aria-label={`Validation accuracy against ${costWords}`}>
        <Legend layout={legend} />
        <rect x={inner.x} y={inner.y} width={inner.width} height={inner.height} className="plot-area" />
        {xTicks.map((t) => (
          <g key={`x${t.value}`}>
            <line x1={x(t.value)} x2={x(t.value)} y1={inner.y} y2={inner.y + inner.height} className={t.label ? 'grid-line' : 'grid-line minor'} />
            {t.label && (
              <text x={x(t.value)} y={inner.y + inner.height + 14} textAnchor="middle" className="tick-label">
                {t.label}
              </text>
            )}
          </g>
        ))}
        {yTicks.map((t) => (
          <g key={`y${t.value}`}>
            <line x1={inner.x} x2={inner.x + inner.width} y1={y(t.value)} y2={y(t.value)} className="grid-line" />
            <text x={inner.x - 6} y={y(t.value) + 4} textAnchor="end" className="tick-label">
              {Math.round(t.value * 100)}
            </text>
          </g>
        ))}
        <text x={inner.x + inner.width / 2} y={HEIGHT - 8} textAnchor="middle" className="axis-label">
          {axis === 'flops' ? 'FLOPs per image (M multiply-adds, log scale)' : 'Training time per image (ms, measured, log scale)'}
        </text>
        <text transform={`translate(13 ${inner.y + inner.height / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">
          Validation accuracy (%)
        </text>

        {lines.map(({ role, from, to }) => (
          <line key={role} x1={px(from.cost)} y1={y(from.accuracy)} x2={px(to.cost)} y2={y(to.accuracy)} className={`lab-baseline role-${role}`} data-testid={`lab-baseline-${role}`} />
        ))}
        {steps.length > 0 && (
          <path d={steps.map((s, i) => `${i === 0 ? 'M' : 'L'}${px(s.cost).toFixed(1)},${y(s.accuracy).toFixed(1)}`).join(' ')} className="lab-front" data-testid="lab-front" data-points={front.length} />
        )}

        {points.map((p, i) => {
          const cx = px(p.cost);
          const cy = y(p.accuracy);
          const selected = selectedId !== null && p.candidateIds.includes(selectedId);
          const best = p.candidateId === bestId;
          const onFront = front.includes(p.candidateId);
          const describe = `${p.label === p.role ? ROLE_MEANING[p.role] : `compound ${formatCoefficients(p)}`}: ${costText(p.cost)}, validation accuracy ${formatAccuracy(p.accuracy)}${p.spread ? ` (seeds ${formatAccuracy(p.spread.low)} – ${formatAccuracy(p.spread.high)})` : ''}${p.out ? ', pruned' : ''}${onFront ? ', on the Pareto front' : ''}${best ? ', best' : ''}`;
          return (
            <g
              key={p.candidateId}
              className={`lab-point role-${p.role}${p.out ? ' out' : ''}${selected ? ' selected' : ''}${best ? ' best' : ''}`}
              data-testid={`lab-point-${p.candidateId}`}
              data-role={p.role}
              data-front={onFront ? 'true' : 'false'}
              data-best={best ? 'true' : 'false'}
              tabIndex={0}
              role="button"
              aria-pressed={selected}
              aria-label={describe}
              onClick={() => onSelect(p.candidateId)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  onSelect(p.candidateId);
                }
              }}
            >
              <title>{describe}</title>
              {p.spread && (
                <g className="lab-spread">
                  <line x1={cx} x2={cx} y1={y(p.spread.low)} y2={y(p.spread.high)} />
                  <line x1={cx - 4} x2={cx + 4} y1={y(p.spread.low)} y2={y(p.spread.low)} />
                  <line x1={cx - 4} x2={cx + 4} y1={y(p.spread.high)} y2={y(p.spread.high)} />
                </g>
              )}
              {best && <circle cx={cx} cy={cy} r={11} className="best-ring" />}
              {selected && <circle cx={cx} cy={cy} r={8.5} className="selection-ring" />}
              <Marker role={p.role} cx={cx} cy={cy} r={selected ? 5.5 : 4.5} />
              <text x={placed[i].x} y={placed[i].y} textAnchor={placed[i].anchor} className="point-label" paintOrder="stroke">
                {p.label}
              </text>
            </g>
          );
        })}
        {points.length === 0 && (
          <text x={inner.x + inner.width / 2} y={inner.y + inner.height / 2} textAnchor="middle" className="tick-label">
            {axis === 'time' && report.candidates.some((c) => c.valAcc !== null) ? 'no candidate has a measured time per image yet' : 'no candidate has a validation accuracy yet'}
          </text>
        )}
        {notDrawn > 0 && (
          <text x={inner.x + inner.width - 6} y={inner.y + 14} textAnchor="end" className="tick-label" data-testid="lab-not-drawn">
            {notDrawn} without a measured time not drawn
          </text>
        )}
      </svg>
    </div>
  );
}

/** base: a square; the paper's point: a diamond; the rest: circles. */
function Marker({ role, cx, cy, r }: { role: ScatterPoint['role']; cx: number; cy: number; r: number }) {
  if (role === 'base') return <rect x={cx - r} y={cy - r} width={2 * r} height={2 * r} className="marker" />;
  if (role === 'paper') {
    const d = r * 1.35;
    return <path d={`M${cx},${cy - d} L${cx + d},${cy} L${cx},${cy + d} L${cx - d},${cy} Z`} className="marker" />;
  }
  return <circle cx={cx} cy={cy} r={r} className="marker" />;
}

interface LegendLayout {
  height: number;
  items: (LegendEntry & { x: number; y: number })[];
}

/** Legend items left to right, wrapping to a new row where the next would not fit. */
function legendLayout(width: number): LegendLayout {
  const items: LegendLayout['items'] = [];
  let x = MARGIN.left;
  let row = 0;
  for (const entry of LEGEND) {
    const itemWidth = 24 + entry.text.length * CHAR_WIDTH + 14;
    if (x + itemWidth > width - MARGIN.right && x > MARGIN.left) {
      row++;
      x = MARGIN.left;
    }
    items.push({ ...entry, x, y: 12 + row * LEGEND_ROW });
    x += itemWidth;
  }
  return { height: (row + 1) * LEGEND_ROW + 6, items };
}

function Legend({ layout }: { layout: LegendLayout }) {
  return (
    <g className="lab-legend">
      {layout.items.map((item) => (
        <g key={item.key} transform={`translate(${item.x} ${item.y})`}>
          {item.kind === 'marker' || item.kind === 'hollow' ? (
            <g className={`lab-point ${item.className}`}>
              <Marker role={item.key === 'base' ? 'base' : item.key === 'paper' ? 'paper' : 'compound'} cx={8} cy={0} r={4} />
            </g>
          ) : item.kind === 'line' ? (
            <g className={`lab-point ${item.className}`}>
              <line x1={0} x2={16} y1={0} y2={0} className={`lab-baseline ${item.className}`} />
              <circle cx={16} cy={0} r={3.5} className="marker" />
            </g>
          ) : item.kind === 'step' ? (
            <path d="M0,4 L6,4 L6,-1 L12,-1 L12,-5 L18,-5" className="lab-front" />
          ) : (
            <g className="lab-spread">
              <line x1={8} x2={8} y1={-6} y2={6} />
              <line x1={4} x2={12} y1={-6} y2={-6} />
              <line x1={4} x2={12} y1={6} y2={6} />
            </g>
          )}
          <text x={24} y={4} className="legend-label">
            {item.text}
          </text>
        </g>
      ))}
    </g>
  );
}

/** What the x axis prints: FLOPs in M multiply-adds, time in ms. */
function axisValue(axis: CostAxis, cost: number): number {
  return axis === 'flops' ? cost / 1e6 : cost * 1000;
}

function layout(points: ScatterPoint[], width: number, legendHeight: number, axis: CostAxis) {
  const inner = { x: MARGIN.left, y: legendHeight + 4, width: Math.max(120, width - MARGIN.left - MARGIN.right), height: HEIGHT - legendHeight - 4 - MARGIN.bottom };
  const scaled = points.map((p) => axisValue(axis, p.cost));
  const xDomain = scaled.length > 0 ? niceLogDomain(Math.min(...scaled), Math.max(...scaled)) : ([1, 10] as [number, number]);
  const yDomain = accuracyDomain(points);
  const x = logScale(xDomain, [inner.x, inner.x + inner.width]);
  const y = linearScale(yDomain, [inner.y + inner.height, inner.y]);
  // (the domain's low end is nudged down for the ticks: 0.2 / 0.02 is 10.000000000000002 in floating point)
  const yStep = yDomain[1] - yDomain[0] > 0.5 ? 0.1 : yDomain[1] - yDomain[0] > 0.2 ? 0.05 : 0.02;
  const placed = placeLabels(
    points.map((p, i) => ({ x: x(scaled[i]), y: y(p.accuracy), width: p.label.length * CHAR_WIDTH, height: FONT + 2 })),
    inner,
    10,
  );
  return { x, y, inner, xTicks: logTicks(xDomain, inner.width), yTicks: linearTicks([yDomain[0] - 1e-9, yDomain[1]], yStep), placed };
}
