/** How the evaluation screen writes its figures: metrics that may be undefined, sizes, confidences. */
import type { RunRecord } from '../../../main/contract/calls-data';
import { formatDate, formatPercent, variantLabel } from '../training/train-format';

export { formatPercent };

/** 0.8123 → "0.812"; null (a class never predicted, or absent) → "—". */
export function formatRatio(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(3);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** "#3 · custom φ −8 · 32 px · 27/11/2026 12:40": a run in one line, for pickers. */
export function runLabel(run: RunRecord): string {
  return `#${run.id} · ${variantLabel(run.variant)} · ${run.resolution} px · ${formatDate(run.createdAt)}`;
}

