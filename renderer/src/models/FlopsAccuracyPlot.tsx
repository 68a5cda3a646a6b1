/**
 * FLOPs (log x) against published ImageNet top-1 (y), one labelled point per variant, the V1 and
 * V2 families joined in FLOPs order. Variants without a published top-1 (custom φ, some V2 sizes)
 * sit on a strip under the axis at their FLOPs, so their cost still reads against the others;
 * the selected one is highlighted and, on the strip, gets a guide line up through the plot.
 */
import { useMemo } from 'react';
import { linearScale, linearTicks, logScale, logTicks, niceLogDomain, placeLabels } from './scales';
import { formatFlops, formatTop1 } from './format';
import { useElementWidth } from './use-element-width';

export interface PlotPoint {
  id: string;
  /** short label drawn beside the point, e.g. "B0", "V2-S", "φ=+1" */
  label: string;
  name: string;
  family: 'v1' | 'v2' | 'custom';
  flops: number;
  top1: number | null;
}

const HEIGHT = 320;
const MARGIN = { top: 10, right: 12, bottom: 40, left: 50 };
/** the strip under the axis has two lanes: published variants without a top-1, then the custom network */
const LANE = 17;
const STRIP_HEIGHT = 2 * LANE;
const FONT = 11;
const CHAR_WIDTH = 6.4;

export function FlopsAccuracyPlot({ points, selectedId, onSelect }: { points: PlotPoint[]; selectedId: string; onSelect: (id: string) => void }) {
  const [ref, width] = useElementWidth<HTMLDivElement>(520);
  const plot = useMemo(() => layout(points, width), [points, width]);
  if (!plot) return <div ref={ref} className="plot-frame muted small">No figures yet.</div>;
  const { x, y, xTicks, yTicks, placed, strip, inner, laneY } = plot;
  const selected = points.find((p) => p.id === selectedId);

  const linePath = (family: PlotPoint['family']) =>
    points
      .filter((p) => p.family === family && p.top1 !== null)
      .sort((a, b) => a.flops - b.flops)
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.flops / 1e9).toFixed(1)},${y(p.top1!).toFixed(1)}`)
      .join(' ');

  return (
    <div ref={ref} className="plot-frame" data-testid="flops-plot">
      <svg width={width} height={HEIGHT} role="img" aria-label="FLOPs against published ImageNet top-1 accuracy">
        <rect x={inner.x} y={inner.y} width={inner.width} height={inner.height} className="plot-area" />
        {xTicks.map((t) => (
          <g key={`x${t.value}`}>
            <line x1={x(t.value)} x2={x(t.value)} y1={inner.y} y2={strip.y + STRIP_HEIGHT} className={t.label ? 'grid-line' : 'grid-line minor'} />
            {t.label && (
              <text x={x(t.value)} y={strip.y + STRIP_HEIGHT + 14} textAnchor="middle" className="tick-label">
                {t.label}
              </text>
            )}
          </g>
        ))}
        {yTicks.map((t) => (
          <g key={`y${t.value}`}>
            <line x1={inner.x} x2={inner.x + inner.width} y1={y(t.value)} y2={y(t.value)} className="grid-line" />
            <text x={inner.x - 6} y={y(t.value) + 4} textAnchor="end" className="tick-label">
              {t.label}
            </text>
          </g>
        ))}
        <rect x={inner.x} y={strip.y} width={inner.width} height={STRIP_HEIGHT} className="plot-strip" />
        <line x1={inner.x} x2={inner.x + inner.width} y1={strip.y + LANE} y2={strip.y + LANE} className="grid-line" />
        <text x={inner.x - 6} y={laneY('v2') + 4} textAnchor="end" className="tick-label">
          n/a
        </text>
        <text x={inner.x - 6} y={laneY('custom') + 4} textAnchor="end" className="tick-label">
          custom
        </text>
        <text x={inner.x + inner.width / 2} y={HEIGHT - 8} textAnchor="middle" className="axis-label">
          FLOPs per image (G multiply-adds, log scale)
        </text>
        <text transform={`translate(13 ${inner.y + inner.height / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">
          ImageNet top-1 (%)
        </text>

        <path d={linePath('v1')} className="family-line v1" />
        <path d={linePath('v2')} className="family-line v2" />
        {selected && selected.top1 === null && (
          <line x1={x(selected.flops / 1e9)} x2={x(selected.flops / 1e9)} y1={inner.y} y2={laneY(selected.family)} className="guide-line" />
        )}

        {points.map((p, i) => {
          const isSelected = p.id === selectedId;
          const cx = x(p.flops / 1e9);
          const cy = p.top1 === null ? laneY(p.family) : y(p.top1);
          return (
            <g
              key={p.id}
              className={`plot-point ${p.family}${isSelected ? ' selected' : ''}${p.top1 === null ? ' unrated' : ''}`}
              onClick={() => onSelect(p.id)}
              data-testid={`plot-point-${p.id}`}
            >
              <title>{`${p.name}: ${formatFlops(p.flops)} GFLOPs, top-1 ${p.top1 === null ? 'not published' : `${formatTop1(p.top1)} %`}`}</title>
              {isSelected && <circle cx={cx} cy={cy} r={9} className="selection-ring" />}
              <circle cx={cx} cy={cy} r={isSelected ? 5.5 : 4} />
              <text x={placed[i].x} y={placed[i].y} textAnchor={placed[i].anchor} className="point-label">
                {p.label}
              </text>
            </g>
          );
        })}
        <Legend x={inner.x + inner.width - 172} y={inner.y + inner.height - 54} />
      </svg>
    </div>
  );
}

function Legend({ x, y }: { x: number; y: number }) {
  const rows: [string, string][] = [
    ['v1', 'EfficientNet B0–B7'],
    ['v2', 'EfficientNetV2'],
    ['v2 unrated', 'hollow: no published top-1'],
  ];
  return (
    <g className="plot-legend" transform={`translate(${x} ${y})`}>
      <rect x={-8} y={-10} width={172} height={rows.length * 16 + 4} rx={4} />
      {rows.map(([family, text], i) => (
        <g key={family} className={`plot-point ${family}`} transform={`translate(0 ${i * 16})`}>
          <circle cx={0} cy={0} r={4} />
          <text x={10} y={4} className="legend-label">
            {text}
          </text>
        </g>
      ))}
    </g>
  );
}

function layout(points: PlotPoint[], width: number) {
  if (points.length === 0) return null;
  const gflops = points.map((p) => p.flops / 1e9);
  const rated = points.filter((p) => p.top1 !== null).map((p) => p.top1!);
  const xDomain = niceLogDomain(Math.min(...gflops), Math.max(...gflops));
  const yLo = rated.length ? Math.floor(Math.min(...rated)) - 1 : 75;
  const yHi = rated.length ? Math.ceil(Math.max(...rated)) + 1 : 86;
  const inner = { x: MARGIN.left, y: MARGIN.top, width: Math.max(120, width - MARGIN.left - MARGIN.right), height: HEIGHT - MARGIN.top - MARGIN.bottom - STRIP_HEIGHT - 8 };
  const strip = { y: inner.y + inner.height + 8 };
  const laneY = (family: PlotPoint['family']) => strip.y + (family === 'custom' ? 1.5 : 0.5) * LANE;
  const x = logScale(xDomain, [inner.x, inner.x + inner.width]);
  const y = linearScale([yLo, yHi], [inner.y + inner.height, inner.y]);
  const yStep = yHi - yLo > 12 ? 2 : 1;

  // Rated points first, then the strip; each group is placed within its own band.
  const boxes = points.map((p) => ({
    x: x(p.flops / 1e9),
    y: p.top1 === null ? laneY(p.family) : y(p.top1),
    width: p.label.length * CHAR_WIDTH,
    height: FONT + 2,
  }));
  // Each band places its own labels: the plot area, then each lane of the strip.
  const placed = new Array<ReturnType<typeof placeLabels>[number]>(points.length);
  const bands: { members: (p: PlotPoint) => boolean; bounds: { x: number; y: number; width: number; height: number }; gap: number }[] = [
    { members: (p) => p.top1 !== null, bounds: inner, gap: 11 },
    { members: (p) => p.top1 === null && p.family !== 'custom', bounds: { x: inner.x, y: strip.y, width: inner.width, height: LANE }, gap: 10 },
    { members: (p) => p.top1 === null && p.family === 'custom', bounds: { x: inner.x, y: strip.y + LANE, width: inner.width, height: LANE }, gap: 11 },
  ];
  for (const band of bands) {
    const indexes = points.map((p, i) => (band.members(p) ? i : -1)).filter((i) => i >= 0);
    placeLabels(
      indexes.map((i) => boxes[i]),
      band.bounds,
      band.gap,
    ).forEach((label, k) => (placed[indexes[k]] = label));
  }

  return { x, y, inner, strip, laneY, xTicks: logTicks(xDomain, inner.width), yTicks: linearTicks([yLo, yHi], yStep), placed };
}
