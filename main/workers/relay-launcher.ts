/**
 * The worker's side of the relay (relay-protocol.ts): a ProcessLauncher that starts a worker by
 * asking the process that started this one, over this process's channel. Under Electron that is
 * the main process, which launches the child as a utility process of its own (only it can) and
 * forwards the child's messages, output and exit; so no worker ever forks the app binary as Node.
 *
 * What it returns behaves as a forked child does: pid (once the host has said it), stdout and
 * stderr as Readables that end when the child has ended, send, kill, onMessage, and onExit after
 * the output is read.
 */
import { Readable } from 'node:stream';
import type { LaunchedWorker, ProcessLauncher, WorkerExit } from './process-launcher';
import { envelope, readReply, type RelayReply, type RelayRequest } from './relay-protocol';
import { workerChannel } from './worker-channel';

/** What the relay launcher needs of its channel (workerChannel's in a worker; a pipe in tests). */
export interface RelayClientPort {
  send(message: unknown): void;
  /** raw channel messages that may be relay envelopes; returns how to stop listening */
  listen(listener: (message: unknown) => void): () => void;
  /** false when the channel to the host has closed: nobody could start the worker */
  connected(): boolean;
}

/** How long output may take to be read after the child has ended, when someone reads it. */
const DRAIN_MS = 2000;

const channelPort: RelayClientPort = {
  send: (message) => void workerChannel.send(message),
  listen: (listener) => workerChannel.onRelay(listener),
  connected: () => workerChannel.connected(),
};

export function relayLauncher(port: RelayClientPort = channelPort): ProcessLauncher {
  let nextId = 1;
  const live = new Map<number, (reply: RelayReply) => void>();
  let stopListening: (() => void) | null = null;
  const onReply = (message: unknown) => {
    const reply = readReply(message);
    if (reply) live.get(reply.id)?.(reply);
  };
  // listen only while a relayed child lives: an idle channel listener would keep this process alive
  const track = (id: number, handler: (reply: RelayReply) => void) => {
    live.set(id, handler);
    stopListening ??= port.listen(onReply);
  };
  const untrack = (id: number) => {
    live.delete(id);
    if (live.size === 0 && stopListening) {
      stopListening();
      stopListening = null;
    }
  };
  const request = (body: RelayRequest) => port.send(envelope(body));

  return (entry, options) => {
    if (!port.connected()) return failedWorker(new Error(`cannot start the ${entry} worker: the channel to the process that relays worker launches is closed`));
    const id = nextId++;
    const env = Object.fromEntries(Object.entries(options.env).filter((kv): kv is [string, string] => kv[1] !== undefined));
    const child = new RelayedWorker(entry, id, request);
    track(id, (reply) => {
      if (reply.op === 'exit') untrack(id);
      child.receive(reply);
    });
    request({ op: 'launch', id, entry, env });
    return child;
  };
}

class RelayedWorker implements LaunchedWorker {
  pid: number | null = null;
  readonly stdout = new Readable({ read() {} });
  readonly stderr = new Readable({ read() {} });
  private readonly messageListeners: ((message: unknown) => void)[] = [];
  private readonly exitListeners: ((exit: WorkerExit, error?: Error) => void)[] = [];
  private ended: { exit: WorkerExit; error?: Error } | null = null;
  private exiting = false;

  constructor(
    private readonly entry: string,
    private readonly id: number,
    private readonly request: (body: RelayRequest) => void,
  ) {}

  send(message: unknown): void {
    if (!this.exiting) this.request({ op: 'send', id: this.id, message });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exiting) this.request({ op: 'kill', id: this.id, signal });
  }

  onMessage(listener: (message: unknown) => void): void {
    this.messageListeners.push(listener);
  }

  onExit(listener: (exit: WorkerExit, error?: Error) => void): void {
    if (this.ended) {
      const { exit, error } = this.ended;
      queueMicrotask(() => listener(exit, error));
    } else this.exitListeners.push(listener);
  }

  receive(reply: RelayReply): void {
    if (this.exiting) return;
    switch (reply.op) {
      case 'started':
        this.pid = reply.pid;
        break;
      case 'message':
        for (const listener of [...this.messageListeners]) listener(reply.message);
        break;
      case 'output':
        (reply.stream === 'stdout' ? this.stdout : this.stderr).push(Buffer.from(reply.data, 'base64'));
        break;
      case 'exit': {
        this.exiting = true;
        const error = reply.error === null ? undefined : new Error(reply.error);
        // the host sends every chunk before the exit; what is still buffered here is read first
        this.stdout.push(null);
        this.stderr.push(null);
        void Promise.all([readToEnd(this.stdout), readToEnd(this.stderr)]).then(() => {
          this.ended = { exit: { code: reply.code, signal: reply.signal }, error };
          for (const listener of this.exitListeners.splice(0)) listener(this.ended.exit, error);
        });
        break;
      }
    }
  }

  toString(): string {
    return `relayed ${this.entry} worker ${this.id}`;
  }
}

/** Resolves once a stream that is being read has delivered its end (at once when nobody reads it). */
function readToEnd(stream: Readable): Promise<void> {
  if (stream.readableEnded || stream.readableFlowing !== true) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, DRAIN_MS);
    stream.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A worker that could not be started: it reports that, as a fork that failed to spawn does. */
export function failedWorker(error: Error): LaunchedWorker {
  const stdout = Readable.from([]);
  const stderr = Readable.from([]);
  return {
    pid: null,
    stdout,
    stderr,
    send: () => undefined,
    kill: () => undefined,
    onMessage: () => undefined,
    onExit: (listener) => queueMicrotask(() => listener({ code: null, signal: null }, error)),
  };
}
