/** Plain-text tables and wrapped text for the readable CLI output; numbers are right-aligned. */

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

/** Terminals narrower than this still get lines this wide (they wrap them); prose wider than MAX_TEXT_WIDTH reads badly. */
const MIN_TEXT_WIDTH = 40;
const MAX_TEXT_WIDTH = 120;

/** The width to lay text out in: the terminal's when writing to one, else 80 (pipes, files, tests). */
export function textWidth(stream?: { isTTY?: boolean; columns?: number }): number {
  const columns = stream?.isTTY && stream.columns ? stream.columns : 80;
  return Math.max(MIN_TEXT_WIDTH, Math.min(MAX_TEXT_WIDTH, columns));
}

/**
 * `tokens` joined by spaces in lines of at most `width` characters, the first line after `first`,
 * the others after `rest` (a hanging indent). A token longer than a line gets a line of its own
 * rather than being cut, so a path or a URL stays whole.
 */
export function wrapTokens(tokens: string[], width: number, first = '', rest = first): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const token of tokens) {
    if (!empty && line.length + 1 + token.length > width) {
      lines.push(line);
      line = rest + token;
    } else {
      line += (empty ? '' : ' ') + token;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** `text`'s words in lines of at most `width` characters (see wrapTokens). */
export function wrapText(text: string, width: number, first = '', rest = first): string[] {
  return wrapTokens(text.split(/\s+/).filter(Boolean), width, first, rest);
}
