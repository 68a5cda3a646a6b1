/**
 * When a trial's kill lands: half the time at a random moment of the whole command (start-up
 * included, which is most of a short command), half the time within `windowMs` after the work
 * visibly began (`begun`, e.g. the project's write-ahead log grew), where the transactions are.
 * Steps too short for either (a rename) are hit with a kill point instead (startCli `killAt`):
 * `diedAtPoint` then tells whether the command got there.
 */
import { killAfter, killOnceStarted, signalGroup, type CliProcess, type CliResult, type KillResult } from './cli';
import { killDelayMs, type TimedCommand, type Soak } from './context';

export function killSomewhere<T>(soak: Soak, op: TimedCommand, proc: CliProcess, begun: () => boolean, windowMs: number, atKill: () => T): Promise<KillResult<T>> {
  if (soak.random() < 0.5) return killAfter(proc, killDelayMs(soak, op), atKill);
  return killOnceStarted(proc, begun, 2, Math.round(soak.random() * windowMs), atKill);
}

/**
 * A command started with a kill point: killed when it died of SIGKILL (it reached the point), else
 * it finished first. The process is gone when this reads the disk, so `atKill` sees what it left.
 */
export async function diedAtPoint<T>(proc: CliProcess, atKill: () => T): Promise<KillResult<T>> {
  const result = await proc.done;
  // what it had started (a python --predict) dies with it, as a kill of the whole group would do
  signalGroup(proc.child.pid!, 'SIGKILL');
  if (result.signal !== 'SIGKILL') return { killed: false, result };
  return { killed: true, snapshot: atKill(), result };
}

/** Let a command run to its end, measuring the ms from when `begun()` first turned true (polled every 2 ms) to its exit. */
export async function measureWorkWindow(proc: CliProcess, begun: () => boolean): Promise<{ result: CliResult; windowMs: number | null }> {
  let from: number | null = null;
  while (proc.alive() && from === null) {
    if (begun()) from = performance.now();
    else await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const result = await proc.done;
  return { result, windowMs: from === null ? null : performance.now() - from };
}
