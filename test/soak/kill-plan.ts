/**
 * When a trial's kill lands: half the time at a random moment of the whole command (start-up
 * included, which is most of a short command), half the time within `windowMs` after the work
 * visibly began (`begun`, e.g. the project's write-ahead log grew), where the transactions are.
 */
import { killAfter, killOnceStarted, type CliProcess, type KillResult } from './cli';
import { killDelayMs, type OperationName, type Soak } from './context';

export function killSomewhere<T>(soak: Soak, op: OperationName, proc: CliProcess, begun: () => boolean, windowMs: number, atKill: () => T): Promise<KillResult<T>> {
  if (soak.random() < 0.5) return killAfter(proc, killDelayMs(soak, op), atKill);
  return killOnceStarted(proc, begun, 2, Math.round(soak.random() * windowMs), atKill);
}
