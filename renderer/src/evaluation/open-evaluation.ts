/**
 * "Evaluate this run" from elsewhere (the run history in the Train tab): the request is kept
 * here until the Evaluate screen mounts and takes it, and ProjectHome is told to switch tabs.
 * A window event keeps the screens free of props threaded through every level in between.
 */
import { useEffect, useRef } from 'react';

const EVENT = 'effitune:open-evaluation';
let pending: { project: string; runId: number } | null = null;

export function requestEvaluation(project: string, runId: number): void {
  pending = { project, runId };
  window.dispatchEvent(new CustomEvent(EVENT, { detail: pending }));
}

/** The run asked for, once (for the Evaluate screen as it mounts). */
export function takeRequestedRun(project: string): number | null {
  if (!pending || pending.project !== project) return null;
  const { runId } = pending;
  pending = null;
  return runId;
}

/** Calls `onRequest` when a run of `project` is asked for (ProjectHome switches to its Evaluate tab). */
export function useEvaluationRequests(project: string, onRequest: (runId: number) => void): void {
  const latest = useRef(onRequest);
  latest.current = onRequest;
  useEffect(() => {
    const listener = (e: Event) => {
      const detail = (e as CustomEvent<{ project: string; runId: number }>).detail;
      if (detail.project === project) latest.current(detail.runId);
    };
    window.addEventListener(EVENT, listener);
    return () => window.removeEventListener(EVENT, listener);
  }, [project]);
}
