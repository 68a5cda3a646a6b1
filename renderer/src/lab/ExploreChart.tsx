/**
 * One figure of a family against φ (log y): the family as a line through its rows, B0..B7 as
 * labelled points at the φ where the family has their FLOPs, and the φ the slider picked as a
 * guide line. Drawn like the other charts (scales.ts, the plot CSS) so it saves as SVG/PNG.
 * Point labels carry paint-order as an attribute: a saved figure inlines only a fixed list of
 * styles, and without it their white halo would be painted over the text.
 */
import { useMemo } from 'react';
import type { ExploreRow } from '../../../main/contract/calls-scaling';
import { linearScale, linearTicks, logScale, logTicks, niceLogDomain, placeLabels } from '../models/scales';
import { useElementWidth } from '../models/use-element-width';
import { METRIC_WORDS, metricValue, phiAtFlops, type ExploreMetric } from './explore-data';

const HEIGHT = 260;
const MARGIN = { top: 10, right: 14, bottom: 40, left: 56 };
const CHAR_WIDTH = 6.4;

/** The unit each figure is drawn in, so tick numbers read without exponents. */
const UNITS: Record<ExploreMetric, { scale: number; unit: string }> = {
  flops: { scale: 1e-6, unit: 'M multiply-adds' },
  params: { scale: 1e-6, unit: 'M' },
  trainingMemoryBytes: { scale: 1 / 2 ** 20, unit: 'MB' },
  secondsPerImage: { scale: 1000, unit: 'ms' },
  resolution: { scale: 1, unit: 'px' },
  depth: { scale: 1, unit: '× B0' },
  width: { scale: 1, unit: '× B0' },
};

export function ExploreChart({ family, variants, metric, pickedPhi }: { family: ExploreRow[]; variants: ExploreRow[]; metric: ExploreMetric; pickedPhi: number }) {
  const [ref, width] = useElementWidth<HTMLDivElement>(520);
  const { scale, unit } = UNITS[metric];
  const plot = useMemo(() => {
    const familyPoints = family
      .filter((r) => r.phi !== null && metricValue(r, metric) !== null)
      .map((r) => ({ phi: r.phi!, value: metricValue(r, metric)! * scale, label: r.label }))
      .sort((a, b) => a.phi - b.phi);
    const variantPoints = variants.flatMap((r) => {
      const value = metricValue(r, metric);
      const phi = phiAtFlops(family, r.flops);
      return value === null || phi === null ? [] : [{ phi, value: value * scale, label: shortLabel(r.label) }];
    });
    const all = [...familyPoints, ...variantPoints];
    if (all.length === 0) return null;
    const inner = { x: MARGIN.left, y: MARGIN.top, width: Math.max(120, width - MARGIN.left - MARGIN.right), height: HEIGHT - MARGIN.top - MARGIN.bottom };
    const phis = [...all.map((p) => p.phi), pickedPhi];
    const xDomain: [number, number] = [Math.floor(Math.min(...phis)), Math.ceil(Math.max(...phis))];
    if (xDomain[1] - xDomain[0] < 1) xDomain[1] = xDomain[0] + 1;
    const values = all.map((p) => p.value);
    const yDomain = niceLogDomain(Math.min(...values), Math.max(...values));
    const x = linearScale(xDomain, [inner.x, inner.x + inner.width]);
    const y = logScale(yDomain, [inner.y + inner.height, inner.y]);
    const span = xDomain[1] - xDomain[0];
    const labels = placeLabels(
      variantPoints.map((p) => ({ x: x(p.phi), y: y(p.value), width: p.label.length * CHAR_WIDTH, height: 13 })),
      inner,
      8,
    );
    return { inner, x, y, familyPoints, variantPoints, labels, xTicks: linearTicks(xDomain, span > 10 ? 2 : 1), yTicks: logTicks(yDomain, inner.height) };
  }, [family, variants, metric, scale, width, pickedPhi]);

  if (!plot) {
    return (
      <div ref={ref} className="plot-frame muted small" data-testid="lab-explore-chart">
        No {METRIC_WORDS[metric]} to draw{metric === 'secondsPerImage' ? ': the time per image comes from a search’s measured speeds' : ''}.
      </div>
    );
  }
  const { inner, x, y, familyPoints, variantPoints, labels, xTicks, yTicks } = plot;
  return (
    <div ref={ref} className="plot-frame" data-testid="lab-explore-chart" data-metric={metric}>
      <svg width={width} height={HEIGHT} role="img" aria-label={`${METRIC_WORDS[metric]} against φ for the family and B0 to B7`}>
        <rect x={inner.x} y={inner.y} width={inner.width} height={inner.height} className="plot-area" />
        {xTicks.map((t) => (
          <g key={`x${t.value}`}>
            <line x1={x(t.value)} x2={x(t.value)} y1={inner.y} y2={inner.y + inner.height} className="grid-line" />
            <text x={x(t.value)} y={inner.y + inner.height + 14} textAnchor="middle" className="tick-label">
              {t.label}
            </text>
          </g>
        ))}
        {yTicks.map((t) => (
          <g key={`y${t.value}`}>
            <line x1={inner.x} x2={inner.x + inner.width} y1={y(t.value)} y2={y(t.value)} className={t.label ? 'grid-line' : 'grid-line minor'} />
            {t.label && (
              <text x={inner.x - 6} y={y(t.value) + 4} textAnchor="end" className="tick-label">
                {compactTick(t.value)}
              </text>
            )}
          </g>
        ))}
        <text x={inner.x + inner.width / 2} y={HEIGHT - 8} textAnchor="middle" className="axis-label">
          φ in this family (B0..B7 placed at equal FLOPs)
        </text>
        <text transform={`translate(13 ${inner.y + inner.height / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">
          {METRIC_WORDS[metric]} ({unit}, log)
        </text>
        <line x1={x(pickedPhi)} x2={x(pickedPhi)} y1={inner.y} y2={inner.y + inner.height} className="guide-line" data-testid="lab-explore-guide" />
        <polyline points={familyPoints.map((p) => `${x(p.phi).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')} className="family-line lab-family-line" />
        {familyPoints.map((p) => (
          <circle key={`f${p.phi}`} cx={x(p.phi)} cy={y(p.value)} r={3.5} className="lab-family-point">
            <title>{`${p.label}: ${Number(p.value.toPrecision(3))} ${unit}`}</title>
          </circle>
        ))}
        {variantPoints.map((p, i) => (
          <g key={`v${p.label}`} className="plot-point v1">
            <title>{`${p.label}: ${Number(p.value.toPrecision(3))} ${unit}`}</title>
            <circle cx={x(p.phi)} cy={y(p.value)} r={4} />
            <text x={labels[i].x} y={labels[i].y} textAnchor={labels[i].anchor} className="point-label" paintOrder="stroke">
              {p.label}
            </text>
          </g>
        ))}
        <g className="plot-legend" transform={`translate(${inner.x + 12} ${inner.y + 14})`}>
          <rect x={-8} y={-10} width={170} height={36} rx={4} />
          <line x1={-2} x2={10} y1={0} y2={0} className="family-line lab-family-line" />
          <circle cx={4} cy={0} r={3} className="lab-family-point" />
          <text x={16} y={4} className="legend-label">
            this family
          </text>
          <g className="plot-point v1" transform="translate(0 16)">
            <circle cx={4} cy={0} r={4} />
            <text x={16} y={4} className="legend-label">
              B0..B7 as published
            </text>
          </g>
        </g>
      </svg>
    </div>
  );
}

/** "EfficientNet-B3" → "B3": what fits beside a point. */
function shortLabel(label: string): string {
  return label.replace(/^EfficientNet-?/i, '');
}

/** 1000000 → "1M", 20000 → "20k": a log axis spans decades, and six digits crowd the margin. */
function compactTick(value: number): string {
  if (value >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (value >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}
