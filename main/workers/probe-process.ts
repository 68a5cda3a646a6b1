/**
 * Running a probe in a child process of its own (the backend probe, the inference-provider probe):
 * loading a GPU driver or a native library can abort a process, and then only the child dies. The
 * child prints its result as one line, a marker followed by JSON, on stdout (libraries may print
 * other lines around it); a child still busy after the timeout is stuck and is killed. The outcome
 * says in words why there is no result: it did not start, timed out, crashed or exited without one.
 */
import { launchWorker, type WorkerEntry } from './process-launcher';

export interface ProbeOutcome<T> {
  result: T | null;
  /** how the process ended, in words (crash, timeout, exit code): why there is no result when there is none */
  failure: string;
  stderr: string;
}

export interface ProbeProcess {
  entry: WorkerEntry;
  /** environment beyond this process's own (the probed name, a software driver) */
  env: Record<string, string>;
  /** the line of stdout that carries the result starts with this */
  marker: string;
  timeoutMs: number;
}

export function runProbeProcess<T>({ entry, env, marker, timeoutMs }: ProbeProcess): Promise<ProbeOutcome<T>> {
  return new Promise((resolve) => {
    // through the engine's process launcher: tsx under Node; under Electron a utility process that
    // the main process starts (directly, or relayed when a worker such as the trainer probes)
    const child = launchWorker(entry, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.onExit(({ code, signal }, error) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(marker));
      const result = line ? (JSON.parse(line.slice(marker.length)) as T) : null;
      const lastWords = lastErrorLine(stderr);
      let failure: string;
      if (error) failure = `the probe process did not start: ${error.message}`;
      else if (timedOut) failure = `loading it did not finish within ${timeoutMs / 1000} s`;
      else if (signal) failure = `loading it crashed the process (${signal})${lastWords ? `: ${lastWords}` : ''}`;
      else failure = `the probe process exited with code ${code}${lastWords ? `: ${lastWords}` : ''}`;
      resolve({ result, failure, stderr });
    });
  });
}

/** The most telling line of a crashed child's stderr: the last error-looking one. */
export function lastErrorLine(stderr: string): string | null {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return [...lines].reverse().find((l) => /error|abort|fault|illegal|cannot|could not|not found/i.test(l)) ?? lines.at(-1) ?? null;
}
