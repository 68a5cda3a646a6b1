/**
 * The WebSocket door for events: every service event goes to every connected page as one JSON
 * message {event, payload}. The handshake is checked like any API request (Host, Origin, token).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { EventName } from '../contract/contract';
import type { DoorService } from '../service/door-service';

/** A slow page must not make the server buffer without bound; progress events are skipped for it. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const HEARTBEAT_MS = 30_000;

/** The one thing this socket needs of the service: every event. */
export type EventSource = Pick<DoorService, 'onEvent'>;

export class EventsSocket {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly alive = new WeakSet<WebSocket>();

  constructor(source: EventSource) {
    this.unsubscribe = source.onEvent((event, payload) => this.broadcast(event, payload));
    this.wss.on('connection', (socket) => {
      this.alive.add(socket);
      socket.on('pong', () => this.alive.add(socket));
      // The channel is one-way; anything a page sends is ignored.
      socket.on('error', () => socket.terminate());
    });
    // Pings drop pages that vanished without closing (sleep, killed tab) so they stop costing sends.
    this.heartbeat = setInterval(() => {
      for (const socket of this.wss.clients) {
        if (!this.alive.has(socket)) {
          socket.terminate();
          continue;
        }
        this.alive.delete(socket);
        socket.ping();
      }
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  get clientCount(): number {
    return this.wss.clients.size;
  }

  private broadcast(event: EventName, payload: unknown): void {
    const message = JSON.stringify({ event, payload });
    for (const socket of this.wss.clients) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (event === 'import.progress' && socket.bufferedAmount > MAX_BUFFERED_BYTES) continue;
      socket.send(message);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const socket of this.wss.clients) socket.terminate();
    this.wss.close();
  }
}
