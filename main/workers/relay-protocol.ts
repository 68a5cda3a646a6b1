/**
 * The relay protocol: how a worker that runs inside Electron (a utility process) starts workers of
 * its own (the trainer probing its backends, the predictor probing inference providers). Only the
 * Electron main process may call utilityProcess.fork, and forking the app binary as Node needs the
 * RunAsNode fuse, which stays off; so the worker asks the process that started it, over the channel
 * it already has, and that process launches the child with its own launcher and forwards:
 *
 *   worker → host   launch {id, entry, env} · send {id, message} · kill {id, signal}
 *   host → worker   started {id, pid} · message {id, message} · output {id, stream, data} · exit {id, code, signal, error}
 *
 * Every relay message travels in an envelope under one key (RELAY_KEY) that no worker protocol
 * uses (theirs are objects with a `type`), so the channel carries both without either side
 * mistaking one for the other. The worker picks its ids; output is base64 so any byte survives
 * JSON (child_process) and structured-clone (utilityProcess) channels alike.
 *
 * relay-launcher.ts is the worker's side (a ProcessLauncher), relay-host.ts the host's.
 */
import type { WorkerEntry } from './process-launcher';

/** The envelope key of every relay message. */
export const RELAY_KEY = 'effitune:relay';

/**
 * Set by the relay host in the environment of every worker it starts: "your parent serves relay
 * requests on your channel". Inherited by the children it starts on a worker's behalf, which it
 * serves too.
 */
export const RELAY_ENV = 'EFFITUNE_WORKER_RELAY';

export type RelayRequest =
  | { op: 'launch'; id: number; entry: WorkerEntry; env: Record<string, string> }
  | { op: 'send'; id: number; message: unknown }
  | { op: 'kill'; id: number; signal: NodeJS.Signals };

export type RelayReply =
  | { op: 'started'; id: number; pid: number | null }
  | { op: 'message'; id: number; message: unknown }
  | { op: 'output'; id: number; stream: 'stdout' | 'stderr'; data: string }
  | { op: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null; error: string | null };

export type RelayEnvelope = { [RELAY_KEY]: RelayRequest | RelayReply };

export function envelope(body: RelayRequest | RelayReply): RelayEnvelope {
  return { [RELAY_KEY]: body };
}

/** Whether a channel message is a relay envelope (of either direction), not the worker's own protocol. */
export function isRelayEnvelope(message: unknown): message is RelayEnvelope {
  return typeof message === 'object' && message !== null && Object.hasOwn(message, RELAY_KEY);
}

type Body = Record<string, unknown> & { op: unknown; id: unknown };

function body(message: unknown): Body | null {
  if (!isRelayEnvelope(message)) return null;
  const inner = message[RELAY_KEY] as unknown;
  if (typeof inner !== 'object' || inner === null) return null;
  const b = inner as Body;
  return Number.isSafeInteger(b.id) ? b : null;
}

const isSignal = (value: unknown): value is NodeJS.Signals => typeof value === 'string' && /^SIG[A-Z0-9]+$/.test(value);
const isStringRecord = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');

/**
 * A worker's request out of a relay envelope, or in words why it is not one the host can serve
 * (with its id when it has one, so the worker can be answered).
 */
export function readRequest(message: RelayEnvelope, entries: readonly string[]): { request: RelayRequest } | { id: number | null; op: unknown; problem: string } {
  const b = body(message);
  if (!b) return { id: null, op: null, problem: 'a relay message without a numeric id' };
  const id = b.id as number;
  const problem = (words: string) => ({ id, op: b.op, problem: `relay request ${id} (${String(b.op)}): ${words}` });
  switch (b.op) {
    case 'launch':
      if (typeof b.entry !== 'string' || !entries.includes(b.entry)) return problem(`"${String(b.entry)}" is not a worker entry (${entries.join(', ')})`);
      if (!isStringRecord(b.env)) return problem('env is not an object of strings');
      return { request: { op: 'launch', id, entry: b.entry as WorkerEntry, env: b.env } };
    case 'send':
      return Object.hasOwn(b, 'message') ? { request: { op: 'send', id, message: b.message } } : problem('no message to send');
    case 'kill':
      return isSignal(b.signal) ? { request: { op: 'kill', id, signal: b.signal } } : problem(`"${String(b.signal)}" is not a signal name`);
    default:
      return problem('unknown operation');
  }
}

/** The host's reply out of an envelope, or null when the message is not a well-formed one. */
export function readReply(message: unknown): RelayReply | null {
  const b = body(message);
  if (!b) return null;
  const id = b.id as number;
  switch (b.op) {
    case 'started':
      return { op: 'started', id, pid: typeof b.pid === 'number' ? b.pid : null };
    case 'message':
      return Object.hasOwn(b, 'message') ? { op: 'message', id, message: b.message } : null;
    case 'output':
      return (b.stream === 'stdout' || b.stream === 'stderr') && typeof b.data === 'string' ? { op: 'output', id, stream: b.stream, data: b.data } : null;
    case 'exit':
      return {
        op: 'exit',
        id,
        code: typeof b.code === 'number' ? b.code : null,
        signal: isSignal(b.signal) ? b.signal : null,
        error: typeof b.error === 'string' ? b.error : null,
      };
    default:
      return null;
  }
}
