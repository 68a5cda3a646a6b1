/**
 * A small hand-written SVG line chart for per-epoch curves: labelled axes, grid lines, one line
 * with points per series and a legend. Drawn at the element's real width so text stays crisp.
 */
import { useElementWidth } from '../models/use-element-width';
import { linearScale, linearTicks } from '../models/scales';

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  id: string;
  label: string;
  /** CSS class giving the series its colour (see styles.css "training") */
  className: string;
  points: ChartPoint[];
}

interface LineChartProps {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** fixed y range (accuracy: 0..1); otherwise the data's range with some air */
  yDomain?: [number, number];
  /** percent: values are fractions shown as %; ticks get as many decimals as their step needs */
  units?: 'number' | 'percent';
  /** the x range to show at least (e.g. all planned epochs), so a run does not rescale as it goes */
  xMax?: number;
  height?: number;
  testId?: string;
}

const MARGIN = { top: 10, right: 14, bottom: 38, left: 52 };

export function LineChart({ title, xLabel, yLabel, series, yDomain, units = 'number', xMax, height = 200, testId }: LineChartProps) {
  const [ref, width] = useElementWidth<HTMLDivElement>(360);
  const values = series.flatMap((s) => s.points);
  const plotWidth = Math.max(40, width - MARGIN.left - MARGIN.right);
  const plotHeight = height - MARGIN.top - MARGIN.bottom;

  const lastX = Math.max(xMax ?? 1, ...values.map((p) => p.x), 1);
  const x = linearScale([1, Math.max(2, lastX)], [MARGIN.left, MARGIN.left + plotWidth]);
  const [y0, y1] = yDomain ?? dataDomain(values.map((p) => p.y));
  const y = linearScale([y0, y1], [MARGIN.top + plotHeight, MARGIN.top]);
  const xTicks = linearTicks(x.domain, niceStep(x.domain[1] - x.domain[0], plotWidth / 60, true));
  const yStep = niceStep(y1 - y0, plotHeight / 26, false);
  const yTicks = linearTicks([y0, y1], yStep);
  const scaleBy = units === 'percent' ? 100 : 1;
  const suffix = units === 'percent' ? ' %' : '';
  const formatTick = (v: number) => `${(v * scaleBy).toFixed(decimalsFor(yStep * scaleBy))}${suffix}`;
  const formatValue = (v: number) => `${Number((v * scaleBy).toPrecision(4))}${suffix}`;

  return (
    <figure className="line-chart" data-testid={testId}>
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-legend">
          {series.map((s) => (
            <span key={s.id} className={`legend-item ${s.className}`}>
              <svg width="18" height="10" aria-hidden>
                <line x1="1" y1="5" x2="17" y2="5" className="series-line" />
              </svg>
              {s.label}
            </span>
          ))}
        </span>
      </figcaption>
      <div ref={ref} className="plot-frame">
        <svg width={width} height={height} role="img" aria-label={`${title}: ${yLabel} by ${xLabel}`}>
          <rect className="plot-area" x={MARGIN.left} y={MARGIN.top} width={plotWidth} height={plotHeight} />
          {yTicks.map((t) => (
            <g key={`y${t.value}`}>
              <line className="grid-line" x1={MARGIN.left} x2={MARGIN.left + plotWidth} y1={y(t.value)} y2={y(t.value)} />
              <text className="tick-label" x={MARGIN.left - 6} y={y(t.value) + 4} textAnchor="end">
                {formatTick(t.value)}
              </text>
            </g>
          ))}
          {xTicks.map((t) => (
            <g key={`x${t.value}`}>
              <line className="grid-line" x1={x(t.value)} x2={x(t.value)} y1={MARGIN.top} y2={MARGIN.top + plotHeight} />
              <text className="tick-label" x={x(t.value)} y={MARGIN.top + plotHeight + 14} textAnchor="middle">
                {t.label}
              </text>
            </g>
          ))}
          <text className="axis-label" x={MARGIN.left + plotWidth / 2} y={height - 6} textAnchor="middle">
            {xLabel}
          </text>
          <text className="axis-label" transform={`translate(13 ${MARGIN.top + plotHeight / 2}) rotate(-90)`} textAnchor="middle">
            {yLabel}
          </text>
          {series.map((s) => (
            <g key={s.id} className={s.className} data-testid={testId ? `${testId}-${s.id}` : undefined} data-points={s.points.length}>
              {s.points.length > 1 && <polyline className="series-line" points={s.points.map((p) => `${x(p.x)},${y(clamp(p.y, y0, y1))}`).join(' ')} />}
              {s.points.map((p) => (
                <circle key={p.x} className="series-point" cx={x(p.x)} cy={y(clamp(p.y, y0, y1))} r={3}>
                  <title>{`${s.label}, ${xLabel} ${p.x}: ${formatValue(p.y)}`}</title>
                </circle>
              ))}
            </g>
          ))}
          {values.length === 0 && (
            <text className="tick-label" x={MARGIN.left + plotWidth / 2} y={MARGIN.top + plotHeight / 2} textAnchor="middle">
              no finished epoch yet
            </text>
          )}
        </svg>
      </div>
    </figure>
  );
}

/** Decimals that tell ticks `step` apart: 0.005 → 3, 0.2 → 1, 5 → 0. */
function decimalsFor(step: number): number {
  return Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(Math.max(value, Math.min(lo, hi)), Math.max(lo, hi));
}

/** The data's range widened by a tenth on each side; a flat or empty series still gets a usable range. */
function dataDomain(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-6) {
    const pad = Math.abs(hi) * 0.1 || 0.5;
    return [Math.max(0, lo - pad), hi + pad];
  }
  const air = (hi - lo) * 0.1;
  lo = lo - air < 0 && lo >= 0 ? 0 : lo - air;
  hi += air;
  return [lo, hi];
}

/** A 1-2-5 step giving at most `count` ticks over `span`; whole numbers only for epochs. */
function niceStep(span: number, count: number, whole: boolean): number {
  const raw = span / Math.max(1, Math.floor(count));
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  return whole ? Math.max(1, Math.round(step)) : step;
}
