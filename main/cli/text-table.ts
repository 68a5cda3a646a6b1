/** Plain-text tables for the readable CLI output; numbers are right-aligned. */

export type Cell = string | number;

export function formatTable(header: string[], rows: Cell[][], indent = ''): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (cells: Cell[]) =>
    indent +
    cells
      .map((c, i) => {
        const text = String(c ?? '');
        const last = i === cells.length - 1;
        if (numeric[i]) return text.padStart(widths[i]);
        return last ? text : text.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
