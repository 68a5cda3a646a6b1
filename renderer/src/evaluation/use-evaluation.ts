/**
 * eval.run for a run and split, with its states: loading (and predicting progress from
 * predict.progress while the engine computes it), the evaluation, or a problem in words.
 * The engine stores evaluations, so reopening a run is instant; `recompute` predicts the split
 * again (on the chosen provider) and computes a fresh one; `refresh` reads it again in the
 * background (after labels changed: the engine recomputes from the stored predictions), keeping
 * the current one on screen meanwhile.
 */
import { useCallback, useEffect, useState } from 'react';
import { errorMessage, useClient, useEvent } from '../api/client-context';
import type { Evaluation, EvalSplit } from '../../../main/contract/calls-eval';
import type { ProviderName } from '../../../main/contract/calls-inference';

export interface EvaluationState {
  evaluation: Evaluation | null;
  loading: boolean;
  problem: string | null;
  /** images predicted so far / to predict, while a fresh evaluation is computed */
  progress: { done: number; total: number } | null;
  recompute: () => void;
  refresh: () => void;
}

export function useEvaluation(project: string, runId: number | null, split: EvalSplit, provider: ProviderName | null = null): EvaluationState {
  const client = useClient();
  const [evaluation, setEvaluation] = useState<Evaluation | null>(null);
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [request, setRequest] = useState({ recompute: false, quiet: false, key: 0 });
  const recompute = useCallback(() => setRequest((r) => ({ recompute: true, quiet: false, key: r.key + 1 })), []);
  const refresh = useCallback(() => setRequest((r) => ({ recompute: false, quiet: true, key: r.key + 1 })), []);

  useEffect(() => {
    if (runId === null) return;
    let current = true;
    if (!request.quiet) {
      setLoading(true);
      setProblem(null);
      setProgress(null);
      setEvaluation(null);
    }
    // the provider matters only when predicting: a stored evaluation is read, not recomputed, when it changes
    client.call('eval.run', { project, runId, split, recompute: request.recompute, predictAgain: request.recompute, ...(provider ? { provider } : {}) }).then(
      (result) => {
        if (!current) return;
        setEvaluation(result);
        setLoading(false);
      },
      (err) => {
        if (!current) return;
        setProblem(errorMessage(err));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- a provider change alone does not refetch
  }, [client, project, runId, split, request]);

  useEvent('predict.progress', (p) => {
    if (loading && p.runId === runId && p.purpose === 'eval') setProgress({ done: p.done, total: p.total });
  });

  return { evaluation, loading, problem, progress, recompute, refresh };
}
