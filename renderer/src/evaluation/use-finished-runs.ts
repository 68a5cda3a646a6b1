/** The project's completed runs (runs.list), newest first: the only ones with a model to evaluate or export. */
import { useCallback, useEffect, useState } from 'react';
import { errorMessage, useClient, useEvent } from '../api/client-context';
import type { RunRecord } from '../../../main/contract/calls-data';

export interface FinishedRuns {
  runs: RunRecord[] | null;
  problem: string | null;
  reload: () => void;
}

export function useFinishedRuns(project: string): FinishedRuns {
  const client = useClient();
  const [runs, setRuns] = useState<RunRecord[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [key, setKey] = useState(0);
  const reload = useCallback(() => setKey((k) => k + 1), []);
  useEffect(() => {
    let current = true;
    client.call('runs.list', { project, status: 'completed', limit: 200 }).then(
      ({ runs }) => {
        if (!current) return;
        setRuns(runs);
        setProblem(null);
      },
      (err) => current && setProblem(`Cannot read the runs: ${errorMessage(err)}`),
    );
    return () => {
      current = false;
    };
  }, [client, project, key]);
  // A run that finishes while this tab is open appears without a reload.
  useEvent('train.status', reload);
  return { runs, problem, reload };
}
