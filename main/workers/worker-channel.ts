/**
 * The worker side of the channel to the service (see process-launcher.ts): process.parentPort when
 * Electron's utilityProcess started this process, process.send when child_process.fork did.
 *
 * The same channel carries the relay (relay-protocol.ts: this worker starting workers of its own
 * through the process that started it). Relay envelopes go to the relay's listeners only, so a
 * worker's own protocol (the trainer's commands) never sees them, and the other way round.
 */
import { isRelayEnvelope } from './relay-protocol';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  removeListener(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

type Listener = (message: unknown) => void;
const messageListeners = new Set<Listener>();
const relayListeners = new Set<Listener>();

function dispatch(message: unknown): void {
  for (const listener of isRelayEnvelope(message) ? [...relayListeners] : [...messageListeners]) listener(message);
}
const fromPort = (event: { data: unknown }) => dispatch(event.data);

let listening = false;
/**
 * Listen on the channel only while someone listens here: under child_process.fork a 'message'
 * listener keeps the process alive, and a worker whose relayed children have all ended must be
 * free to exit as it did before.
 */
function updateListening(): void {
  const wanted = messageListeners.size + relayListeners.size > 0;
  if (wanted === listening) return;
  listening = wanted;
  if (parentPort) {
    if (wanted) parentPort.on('message', fromPort);
    else parentPort.removeListener('message', fromPort);
  } else if (wanted) process.on('message', dispatch);
  else process.removeListener('message', dispatch);
}

export const workerChannel = {
  /** Resolves once the message is handed over (or at once when nobody listens any more). */
  send(message: unknown): Promise<void> {
    if (parentPort) {
      parentPort.postMessage(message);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      if (!process.send || !process.connected) return resolve();
      process.send(message, undefined, {}, () => resolve());
    });
  },
  /** The worker's own protocol: every message but the relay's. */
  onMessage(listener: Listener): void {
    messageListeners.add(listener);
    updateListening();
  },
  /** Whether this process has a channel to the process that started it (and it is still open). */
  connected(): boolean {
    return parentPort !== undefined || (process.send !== undefined && process.connected);
  },
  /** The relay's envelopes; returns how to stop listening. */
  onRelay(listener: Listener): () => void {
    relayListeners.add(listener);
    updateListening();
    return () => {
      relayListeners.delete(listener);
      updateListening();
    };
  },
};
