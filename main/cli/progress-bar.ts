/**
 * A one-line progress bar for long commands, drawn on stderr only when stderr is a terminal
 * (so logs and pipes never fill with carriage returns). Redraws are throttled. The line always
 * fits the terminal: a line wider than it wraps, and every redraw would then add a line.
 */
import type { ImportProgress } from '../contract/contract';
import { formatDuration } from './durations';

interface Terminal {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const REDRAW_MS = 100;
/** Below this many cells a bar says little; the parts before the ETA give way first. */
const MIN_BAR = 10;
const SEPARATOR = ' · ';

export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly terminal: Terminal) {}

  get enabled(): boolean {
    return Boolean(this.terminal.isTTY);
  }

  update(progress: ImportProgress, now = Date.now()): void {
    if (!this.enabled || now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.terminal.write(`\r${renderImportProgress(progress, this.terminal.columns || 80)}\x1b[K`);
    this.drawn = true;
  }

  /** Removes the bar so the summary that follows starts on a clean line. */
  clear(): void {
    if (this.drawn) this.terminal.write('\r\x1b[K');
    this.drawn = false;
  }
}

/**
 * `[####......] part · part · … · last` in at most `columns - 1` characters (the last column wraps
 * on some terminals). Too wide, the bar shrinks first (down to MIN_BAR cells), then the parts
 * between the first and the last drop, from the right: the first says what is happening and the
 * last is the one a user waits for (the ETA), so both always show.
 */
export function fitProgressLine(fraction: number, parts: string[], columns: number, maxBar = 40): string {
  const room = Math.max(20, columns - 1);
  const kept = [...parts];
  let text = kept.join(SEPARATOR);
  while (kept.length > 2 && room - text.length - 3 < MIN_BAR) {
    kept.splice(kept.length - 2, 1);
    text = kept.join(SEPARATOR);
  }
  if (text.length > room) text = shortenFirst(kept, room);
  const cells = Math.min(maxBar, room - text.length - 3);
  return cells >= 3 ? `${drawBar(fraction, cells)} ${text}` : text;
}

/** Only the first and last part are left and still too wide: the first gives way, with an ellipsis. */
function shortenFirst(kept: string[], room: number): string {
  if (kept.length === 1) return kept[0].slice(0, room);
  const last = kept[kept.length - 1];
  const left = room - last.length - SEPARATOR.length - 1;
  return left > 0 ? `${kept[0].slice(0, left)}…${SEPARATOR}${last}` : last.slice(0, room);
}

function drawBar(fraction: number, cells: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * cells);
  return `[${'#'.repeat(filled)}${'.'.repeat(cells - filled)}]`;
}

export function renderImportProgress(p: ImportProgress, columns: number): string {
  const done = p.imported + p.unchanged + p.duplicates + p.rejected;
  const label = p.phase === 'scanning' ? `scanning (${p.seen} found)` : p.phase;
  const fraction = p.total ? Math.min(1, done / p.total) : 0;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const parts = [`${percent} ${label}`, `${done}/${p.total ?? '?'} files`, `${p.imported} new`, `${p.rejected} rejected`, `${p.ratePerSecond.toFixed(0)} img/s`];
  const eta = importEtaSeconds(p, done);
  if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
  return fitProgressLine(fraction, parts, columns);
}

/** Seconds left at the current rate, once the scan has counted the files and the rate means something. */
function importEtaSeconds(p: ImportProgress, done: number): number | null {
  if (p.phase !== 'importing' || p.total === null || p.ratePerSecond <= 0 || done >= p.total) return null;
  return (p.total - done) / p.ratePerSecond;
}
