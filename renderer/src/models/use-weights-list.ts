/** The app's weights cache as weights.list reports it; `refresh` asks again (after a download or an import). */
import { useCallback, useEffect, useState } from 'react';
import { useClient, errorMessage } from '../api/client-context';
import type { CallOutput } from '../../../main/contract/contract';

export type WeightsList = CallOutput<'weights.list'>;

export function useWeightsList(): { list: WeightsList | null; problem: string | null; refresh: () => void } {
  const client = useClient();
  const [list, setList] = useState<WeightsList | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let current = true;
    client.call('weights.list', {}).then(
      (result) => {
        if (!current) return;
        setList(result);
        setProblem(null);
      },
      (err) => {
        if (current) setProblem(errorMessage(err));
      },
    );
    return () => {
      current = false;
    };
  }, [client, version]);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  return { list, problem, refresh };
}
