/**
 * The weight downloads of this window, outside any component: a download goes on while the user
 * visits another tab, and the Model tab finds its progress again when it comes back. Each entry is
 * one published file (variant + with/without classifier); its state follows weights.progress
 * events of its job id until weights.download answers.
 */
import { useSyncExternalStore } from 'react';
import type { Client } from '../../../main/contract/client';
import type { LocalWeights, PretrainedFile, WeightsProgress } from '../../../main/contract/calls-models';
import { errorMessage } from '../api/client-context';

export type DownloadState =
  | { kind: 'running'; jobId: string; progress: WeightsProgress | null; cancelling: boolean }
  | { kind: 'done'; weights: LocalWeights; alreadyPresent: boolean; resumedFrom: number; elapsedSeconds: number }
  | { kind: 'cancelled'; keptBytes: number }
  | { kind: 'failed'; message: string; offline: boolean };

const states = new Map<string, DownloadState>();
const listeners = new Set<() => void>();
let snapshot = new Map(states);

function set(key: string, state: DownloadState): void {
  states.set(key, state);
  snapshot = new Map(states);
  for (const listener of listeners) listener();
}

export function downloadKey(file: Pick<PretrainedFile, 'variant' | 'includeTop'>): string {
  return `${file.variant}:${file.includeTop ? 'top' : 'notop'}`;
}

/**
 * The engine words an unreachable host as "cannot reach <host>: offline? …" (http-download.ts);
 * the UI then points at its own import route as well.
 */
export function isOfflineMessage(message: string): boolean {
  return /cannot reach .*offline\?/i.test(message);
}

/** Start downloading a published file; `onFinished` runs once it is in the cache (to refresh lists). */
export function startDownload(client: Client, file: PretrainedFile, onFinished: () => void): void {
  const key = downloadKey(file);
  if (states.get(key)?.kind === 'running') return;
  const jobId = `ui-${key.replace(/[^a-z0-9-]+/gi, '-')}-${Date.now().toString(36)}`;
  let last: WeightsProgress | null = null;
  set(key, { kind: 'running', jobId, progress: null, cancelling: false });
  const unsubscribe = client.on('weights.progress', (progress) => {
    if (progress.jobId !== jobId) return;
    last = progress;
    const current = states.get(key);
    if (current?.kind === 'running') set(key, { ...current, progress });
  });
  client.call('weights.download', { variant: file.variant, includeTop: file.includeTop, jobId }).then(
    (result) => {
      unsubscribe();
      set(key, { kind: 'done', weights: result.weights, alreadyPresent: result.alreadyPresent, resumedFrom: result.resumedFrom, elapsedSeconds: result.elapsedSeconds });
      onFinished();
    },
    (err) => {
      unsubscribe();
      const code = (err as { code?: string }).code;
      const message = errorMessage(err);
      if (code === 'cancelled') set(key, { kind: 'cancelled', keptBytes: last?.receivedBytes ?? 0 });
      else set(key, { kind: 'failed', message, offline: isOfflineMessage(message) });
    },
  );
}

export async function cancelDownload(client: Client, file: PretrainedFile): Promise<void> {
  const key = downloadKey(file);
  const current = states.get(key);
  if (current?.kind !== 'running') return;
  set(key, { ...current, cancelling: true });
  await client.call('weights.cancel', { jobId: current.jobId });
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Every download of this window by downloadKey, re-rendering on each change. */
export function useDownloads(): ReadonlyMap<string, DownloadState> {
  return useSyncExternalStore(subscribe, () => snapshot);
}
