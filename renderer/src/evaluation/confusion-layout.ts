/**
 * Geometry and colours of the confusion-matrix heatmap, kept apart from React so the sizes that
 * keep 50 class names readable are easy to see: cells shrink with the class count down to a
 * minimum (the view scrolls beyond that), names are cut to a length with the full name in a
 * tooltip, and column names are rotated so neighbours never overlap.
 */

export const LABEL_FONT_PX = 11;
/** average advance of a character at LABEL_FONT_PX in the UI font; generous so labels never collide */
const CHAR_PX = 6.4;
const MAX_LABEL_CHARS = 22;
/**
 * Rotated column names: 45° while cells are wide enough to keep neighbours apart (the gap across
 * two slanted names is the cell size × sin 45°), upright (90°) for narrow cells.
 */
function rotationFor(cell: number): number {
  return cell * Math.SQRT1_2 >= LABEL_FONT_PX + 6 ? 45 : 90;
}

export interface MatrixLayout {
  cell: number;
  /** width of the row-name column (left) */
  left: number;
  /** height of the rotated column names (top) */
  top: number;
  /** room on the right for the last rotated name and the row totals */
  right: number;
  bottom: number;
  width: number;
  height: number;
  showValues: boolean;
  rotate: number;
  labels: string[];
}

export function cellSize(classes: number, compact: boolean): number {
  const size = classes <= 4 ? 64 : classes <= 8 ? 48 : classes <= 15 ? 36 : classes <= 25 ? 26 : 20;
  return compact ? Math.max(14, Math.round(size * 0.7)) : size;
}

/** "a-very-long-class-name-indeed" → "a-very-long-class-nam…" */
export function truncateLabel(name: string, maxChars = MAX_LABEL_CHARS): string {
  return name.length <= maxChars ? name : `${name.slice(0, maxChars - 1)}…`;
}

export function matrixLayout(classes: string[], compact = false): MatrixLayout {
  const cell = cellSize(classes.length, compact);
  const labels = classes.map((c) => truncateLabel(c, compact ? 14 : MAX_LABEL_CHARS));
  const longest = Math.max(1, ...labels.map((l) => l.length)) * CHAR_PX;
  // Names that fit across their cell stay horizontal; longer ones are rotated.
  const rotate = longest + 4 <= cell ? 0 : rotationFor(cell);
  const slant = Math.sin((rotate * Math.PI) / 180);
  const left = Math.ceil(longest + 28);
  const top = Math.ceil((rotate ? longest * slant + 8 : LABEL_FONT_PX + 8) + 22);
  const right = Math.ceil(Math.max(44, rotate ? longest * Math.cos((rotate * Math.PI) / 180) - cell / 2 + 12 : 0));
  const bottom = 20;
  return {
    cell,
    left,
    top,
    right,
    bottom,
    width: left + classes.length * cell + right,
    height: top + classes.length * cell + bottom,
    showValues: cell >= 26,
    rotate,
    labels,
  };
}

/** Diagonal (correct) cells in blue, mistakes in red, stronger with `intensity` 0..1. */
export function cellColor(intensity: number, diagonal: boolean): string {
  if (intensity <= 0) return '#f7f8fa';
  const t = Math.min(1, Math.max(0, intensity));
  const lightness = 96 - t * 56;
  return diagonal ? `hsl(217, 80%, ${lightness}%)` : `hsl(4, 72%, ${lightness}%)`;
}

export function textColor(intensity: number): string {
  return intensity > 0.55 ? '#ffffff' : '#1d2430';
}

/** Each row divided by its total (the class's support); an empty row stays 0. */
export function rowNormalized(confusion: number[][]): number[][] {
  return confusion.map((row) => {
    const total = row.reduce((s, v) => s + v, 0);
    return row.map((v) => (total ? v / total : 0));
  });
}
