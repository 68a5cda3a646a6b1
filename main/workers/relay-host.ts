/**
 * The host's side of the relay (relay-protocol.ts): the process that starts workers (the Electron
 * main process, with utilityProcess) also starts, on their behalf, the workers they ask for, with
 * the same launcher, and forwards what those say, print and how they end. Plain TypeScript, so it
 * runs and is tested under Node; electron/worker-launcher.ts only wraps its utilityProcess
 * launcher in relayHostLauncher.
 *
 * A worker's relayed children live no longer than it does: when it ends, however it ends (a crash,
 * a SIGKILL), the host kills them, so none is left running without the process that wanted it.
 */
import { WORKER_ENTRIES, type LaunchedWorker, type ProcessLauncher, type WorkerExit } from './process-launcher';
import { envelope, isRelayEnvelope, readRequest, RELAY_ENV, type RelayReply, type RelayRequest } from './relay-protocol';

export interface RelayServer {
  /** Takes a message from the worker: true when it was the relay's (served here), false when it is the worker's own. */
  handle(message: unknown): boolean;
  /** The worker has ended: kill every child started for it, start no more. */
  close(): void;
}

/** Serves one worker's relay requests: `reply` reaches that worker, `launcher` starts its children. */
export function relayServer(reply: (message: unknown) => void, launcher: ProcessLauncher): RelayServer {
  const children = new Map<number, LaunchedWorker>();
  let closed = false;
  const send = (body: RelayReply) => {
    if (!closed) reply(envelope(body));
  };
  const refuse = (id: number, error: string) => send({ op: 'exit', id, code: null, signal: null, error });

  function launch({ id, entry, env }: Extract<RelayRequest, { op: 'launch' }>): void {
    if (children.has(id)) return refuse(id, `cannot start the ${entry} worker: relay id ${id} is already in use`);
    let child: LaunchedWorker;
    try {
      child = launcher(entry, { env });
    } catch (err) {
      return refuse(id, `cannot start the ${entry} worker: ${(err as Error).message}`);
    }
    children.set(id, child);
    send({ op: 'started', id, pid: child.pid });
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]?.on('data', (chunk: Buffer | string) => send({ op: 'output', id, stream, data: Buffer.from(chunk).toString('base64') }));
    }
    child.onMessage((message) => send({ op: 'message', id, message }));
    child.onExit(({ code, signal }, error) => {
      children.delete(id);
      send({ op: 'exit', id, code, signal, error: error ? error.message : null });
    });
  }

  return {
    handle(message) {
      if (!isRelayEnvelope(message)) return false;
      const read = readRequest(message, WORKER_ENTRIES);
      if ('problem' in read) {
        // a launch nobody can serve still gets its answer, so the worker does not wait for ever
        // (a bad send or kill is dropped: its child is still running)
        if (read.op === 'launch' && read.id !== null && !children.has(read.id)) refuse(read.id, read.problem);
        return true;
      }
      const { request } = read;
      if (closed) return true;
      if (request.op === 'launch') launch(request);
      else if (request.op === 'send') children.get(request.id)?.send(request.message);
      else children.get(request.id)?.kill(request.signal);
      return true;
    },
    close() {
      closed = true;
      for (const child of children.values()) child.kill('SIGKILL');
    },
  };
}

/**
 * `inner` with the relay served: every worker it starts is told so (RELAY_ENV) and has its relay
 * requests answered by children started through this same launcher (so theirs are served too);
 * the relay's envelopes never reach the caller's onMessage listeners.
 */
export function relayHostLauncher(inner: ProcessLauncher): ProcessLauncher {
  const launch: ProcessLauncher = (entry, options) => {
    const worker = inner(entry, { env: { ...options.env, [RELAY_ENV]: '1' } });
    const server = relayServer((message) => worker.send(message), launch);
    const messageListeners: ((message: unknown) => void)[] = [];
    const exitListeners: ((exit: WorkerExit, error?: Error) => void)[] = [];
    let ended: { exit: WorkerExit; error?: Error } | null = null;
    worker.onMessage((message) => {
      if (!server.handle(message)) for (const listener of [...messageListeners]) listener(message);
    });
    worker.onExit((exit, error) => {
      server.close();
      ended = { exit, error };
      for (const listener of exitListeners.splice(0)) listener(exit, error);
    });
    return {
      get pid() {
        return worker.pid;
      },
      stdout: worker.stdout,
      stderr: worker.stderr,
      send: (message) => worker.send(message),
      kill: (signal) => worker.kill(signal),
      onMessage: (listener) => void messageListeners.push(listener),
      onExit(listener) {
        if (!ended) return void exitListeners.push(listener);
        const { exit, error } = ended;
        queueMicrotask(() => listener(exit, error));
      },
    };
  };
  return launch;
}
