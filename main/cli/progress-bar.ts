/**
 * A one-line progress bar for long commands, drawn on stderr only when stderr is a terminal
 * (so logs and pipes never fill with carriage returns). Redraws are throttled.
 */
import type { ImportProgress } from '../contract/contract';

interface Terminal {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const REDRAW_MS = 100;

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

export function renderImportProgress(p: ImportProgress, columns: number): string {
  const done = p.imported + p.unchanged + p.duplicates + p.rejected;
  const counts = `${done}/${p.total ?? '?'} files · ${p.imported} new · ${p.rejected} rejected · ${p.ratePerSecond.toFixed(0)} img/s`;
  const label = p.phase === 'scanning' ? `scanning (${p.seen} found)` : p.phase;
  const fraction = p.total ? Math.min(1, done / p.total) : 0;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const barWidth = Math.max(10, Math.min(40, columns - counts.length - label.length - 12));
  const filled = Math.round(fraction * barWidth);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`;
  return `${bar} ${percent} ${label} · ${counts}`.slice(0, Math.max(20, columns - 1));
}
