/** How the training screen writes its figures: durations, percentages, losses, model names. */
import { CUSTOM, PAPER_SCALING, type ModelSelection } from '../models/model-selection';
import { formatPhi } from '../models/format';

/** 75 → "1 min 15 s", 5400 → "1 h 30 min": the two largest units are enough for an ETA. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${s % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(1)} %`;
}

export function formatLoss(loss: number | null | undefined): string {
  if (loss === null || loss === undefined || !Number.isFinite(loss)) return '—';
  return loss.toFixed(loss >= 10 ? 2 : 4);
}

export function formatRate(imagesPerSecond: number | null | undefined): string {
  if (imagesPerSecond === null || imagesPerSecond === undefined || !Number.isFinite(imagesPerSecond)) return '—';
  return imagesPerSecond >= 100 ? imagesPerSecond.toFixed(0) : imagesPerSecond.toFixed(1);
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

/**
 * The model id train.start takes: a named variant as is, a custom network as "phi=<n>" plus the
 * constants only where they differ from the paper's or a base is set (the engine stores the same id with the run).
 */
export function trainModelId(selection: ModelSelection): string {
  if (selection.variant !== CUSTOM) return selection.variant;
  const { phi, alpha, beta, gamma, basePhi = 0 } = selection.custom;
  const isPaper = alpha === PAPER_SCALING.alpha && beta === PAPER_SCALING.beta && gamma === PAPER_SCALING.gamma;
  // a family's base (the Lab) goes last, as main/model/variants.ts writes the id: "…,gamma=1.2,base=-6"
  if (basePhi !== 0) return `phi=${phi},alpha=${alpha},beta=${beta},gamma=${gamma},base=${basePhi}`;
  return isPaper ? `phi=${phi}` : `phi=${phi},alpha=${alpha},beta=${beta},gamma=${gamma}`;
}

/** A stored run's variant id in words: "B0", "V2-S", "custom φ −6", "custom φ +1 (α 1.3 β 1.1 γ 1.13, base φ −8)". */
export function variantLabel(id: string): string {
  const phi = /^phi=(-?[\d.]+)/.exec(id);
  if (!phi) return id.toUpperCase();
  const part = (name: string) => new RegExp(`(?:^|,)${name}=(-?[\\d.]+)`).exec(id)?.[1];
  const [alpha, beta, gamma, base] = ['alpha', 'beta', 'gamma', 'base'].map(part);
  const coefficients = alpha && beta && gamma ? `α ${alpha} β ${beta} γ ${gamma}` : '';
  const baseWords = base && Number(base) !== 0 ? `base φ ${formatPhi(Number(base))}` : '';
  const detail = [coefficients, baseWords].filter(Boolean).join(', ');
  return `custom φ ${formatPhi(Number(phi[1]))}${detail ? ` (${detail})` : ''}`;
}
