/**
 * How a worker process (trainer, predictor, estimate) ended, in words a user can act on: the
 * signal or exit code and the most telling line it printed last.
 */

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the last lines the process printed (stderr and stdout) */
  output: string;
}

/** How a worker process ended, in words: "killed by SIGKILL", "exit code 134: JavaScript heap out of memory". */
export function describeExit(exit: ProcessExit): string {
  const last = lastMeaningfulLine(exit.output);
  if (exit.signal) return `killed by ${exit.signal}${exit.signal === 'SIGKILL' ? ' (out of memory, or killed by hand)' : ''}${last ? `; it last printed: ${last}` : ''}`;
  if (exit.code === null) return last || 'it could not be started';
  return `exit code ${exit.code}${last ? `: ${last}` : ''}`;
}

function lastMeaningfulLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  // V8's fatal out-of-memory message is the most useful line when it is there
  const oom = lines.find((l) => /heap out of memory|out of memory/i.test(l));
  return (oom ?? lines.at(-1) ?? '').slice(0, 300);
}
