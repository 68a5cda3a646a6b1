/**
 * The typed client of the contract. The renderer, the e2e tests and scripts talk to Effitune only
 * through this; the transport (Electron IPC or HTTP + WebSocket) is chosen by the caller.
 */
import { ApiError, type ApiErrorShape, type CallInput, type CallName, type CallOutput, type EventName, type EventPayload } from './contract';

export interface Transport {
  call(name: string, input: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: ApiErrorShape }>;
  subscribe(listener: (event: string, payload: unknown) => void): () => void;
  /** URL the UI can put in <img src> for an image's thumbnail or full view. */
  mediaUrl(kind: 'thumb' | 'full', project: string, id: number): string;
}

export interface Client {
  call<N extends CallName>(name: N, input: CallInput<N>): Promise<CallOutput<N>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  mediaUrl(kind: 'thumb' | 'full', project: string, id: number): string;
}

export function createClient(transport: Transport): Client {
  return {
    async call(name, input) {
      const reply = await transport.call(name, input);
      if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message, reply.error.details);
      return reply.value as never;
    },
    on(event, listener) {
      return transport.subscribe((name, payload) => {
        if (name === event) listener(payload as never);
      });
    },
    mediaUrl: (kind, project, id) => transport.mediaUrl(kind, project, id),
  };
}
