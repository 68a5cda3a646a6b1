/**
 * Axis arithmetic for the hand-written SVG plot: a log scale for FLOPs with 1-2-5 ticks and a
 * linear scale for accuracy. Kept apart from the drawing so the numbers can be read on their own.
 */

export interface Scale {
  domain: [number, number];
  range: [number, number];
  (value: number): number;
}

export function logScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain.map(Math.log10);
  const scale = ((value: number) => range[0] + ((Math.log10(value) - d0) / (d1 - d0)) * (range[1] - range[0])) as Scale;
  scale.domain = domain;
  scale.range = range;
  return scale;
}

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const scale = ((value: number) => range[0] + ((value - domain[0]) / (domain[1] - domain[0])) * (range[1] - range[0])) as Scale;
  scale.domain = domain;
  scale.range = range;
  return scale;
}

const STEPS = [1, 2, 5];

/** The 1-2-5 values between lo and hi (inclusive), e.g. 0.2, 0.5, 1, 2, 5, 10. */
function oneTwoFive(lo: number, hi: number): number[] {
  const values: number[] = [];
  for (let exp = Math.floor(Math.log10(lo)) - 1; exp <= Math.ceil(Math.log10(hi)); exp++) {
    for (const step of STEPS) {
      const value = Number((step * 10 ** exp).toPrecision(1));
      if (value >= lo * (1 - 1e-9) && value <= hi * (1 + 1e-9)) values.push(value);
    }
  }
  return values;
}

/** A log domain that starts and ends on 1-2-5 values with some air around the data. */
export function niceLogDomain(min: number, max: number, air = 1.2): [number, number] {
  const lo = min / air;
  const hi = max * air;
  const below = oneTwoFive(lo / 10, lo).at(-1) ?? lo;
  const above = oneTwoFive(hi, hi * 10)[0] ?? hi;
  return [below, above];
}

export interface Tick {
  value: number;
  /** only labelled ticks carry text; the rest are minor grid lines */
  label: string | null;
}

/**
 * Ticks at every 1-2-5 value. All are labelled while a decade is wide enough for three labels
 * (5 → 10 is only 0.3 of a decade); on a narrow axis only the powers of ten are.
 */
export function logTicks([lo, hi]: [number, number], pixels: number): Tick[] {
  const pixelsPerDecade = pixels / Math.log10(hi / lo);
  return oneTwoFive(lo, hi).map((value) => {
    const powerOfTen = Math.abs(Math.log10(value) - Math.round(Math.log10(value))) < 1e-9;
    return { value, label: pixelsPerDecade >= 110 || powerOfTen ? formatTickNumber(value) : null };
  });
}

/** Linear ticks every `step`, within the domain. */
export function linearTicks([lo, hi]: [number, number], step: number): Tick[] {
  const ticks: Tick[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push({ value: v, label: formatTickNumber(Number(v.toFixed(6))) });
  return ticks;
}

function formatTickNumber(value: number): string {
  return value >= 1 ? String(value) : String(Number(value.toPrecision(2)));
}

// ---------- label placement ----------

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Anchor = 'start' | 'end' | 'middle';

export interface PlacedLabel {
  x: number;
  y: number;
  anchor: Anchor;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/**
 * Greedy label placement: each label tries right, left, above, below (and further out) of its
 * point and takes the first spot that stays inside the plot and clear of the labels and points
 * already placed. Variants cluster (B1 and V2-B0 sit almost on each other), so a fixed offset would
 * print them over one another.
 */
export function placeLabels(
  points: { x: number; y: number; width: number; height: number }[],
  bounds: Box,
  gap = 7,
): PlacedLabel[] {
  const taken: Box[] = points.map((p) => ({ x: p.x - 4, y: p.y - 4, width: 8, height: 8 }));
  return points.map((p) => {
    const candidates: { label: PlacedLabel; box: Box }[] = [];
    for (const distance of [gap, gap + 10, gap + 22]) {
      const h = p.height;
      candidates.push(
        { label: { x: p.x + distance, y: p.y + h / 3, anchor: 'start' }, box: { x: p.x + distance, y: p.y - h / 2, width: p.width, height: h } },
        { label: { x: p.x - distance, y: p.y + h / 3, anchor: 'end' }, box: { x: p.x - distance - p.width, y: p.y - h / 2, width: p.width, height: h } },
        { label: { x: p.x, y: p.y - distance - 1, anchor: 'middle' }, box: { x: p.x - p.width / 2, y: p.y - distance - h, width: p.width, height: h } },
        { label: { x: p.x, y: p.y + distance + h - 2, anchor: 'middle' }, box: { x: p.x - p.width / 2, y: p.y + distance, width: p.width, height: h } },
      );
    }
    const inside = (b: Box) => b.x >= bounds.x && b.y >= bounds.y && b.x + b.width <= bounds.x + bounds.width && b.y + b.height <= bounds.y + bounds.height;
    const free = candidates.find((c) => inside(c.box) && !taken.some((t) => overlaps(t, c.box))) ?? candidates.find((c) => inside(c.box)) ?? candidates[0];
    taken.push(free.box);
    return free.label;
  });
}
