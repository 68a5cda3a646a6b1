/**
 * A call whose answer does not change while the app runs (the backend and provider probes, which
 * start child processes): asked once per window, its answer shared by every component that needs
 * it. A failed call is asked again by the next component that mounts.
 */
import { useEffect, useState } from 'react';
import type { Client } from '../../../main/contract/client';
import { errorMessage, useClient } from './client-context';

export interface OnceAnswer<T> {
  /** null until it comes */
  value: T | null;
  /** why it failed, in words */
  problem: string | null;
}

export function oncePerWindow<T>(ask: (client: Client) => Promise<T>): () => OnceAnswer<T> {
  let once: Promise<T> | null = null;
  const answer = (client: Client) => {
    once ??= ask(client).catch((err: unknown) => {
      once = null;
      throw err;
    });
    return once;
  };
  return function useOncePerWindow() {
    const client = useClient();
    const [state, setState] = useState<OnceAnswer<T>>({ value: null, problem: null });
    useEffect(() => {
      let live = true;
      answer(client).then(
        (value) => live && setState({ value, problem: null }),
        (err) => live && setState({ value: null, problem: errorMessage(err) }),
      );
      return () => {
        live = false;
      };
    }, [client]);
    return state;
  };
}
