/**
 * Browser-mode transport: calls are POST /api/call/<name> with a bearer token, events arrive on a
 * WebSocket that reconnects when it drops, and images are plain URLs carrying the token (an <img>
 * cannot send headers).
 */
import type { Transport } from '../../../main/contract/client';
import type { ApiErrorShape } from '../../../main/contract/contract';

type Listener = (event: string, payload: unknown) => void;
type Reply = { ok: true; value: unknown } | { ok: false; error: ApiErrorShape };

const TOKEN_KEY = 'effitune.token';

/** The token comes in the URL printed by `effitune serve`; sessionStorage keeps it across reloads. */
export function readToken(): string | null {
  const fromUrl = new URLSearchParams(window.location.search).get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export function createHttpTransport(token: string, origin = window.location.origin): Transport {
  const listeners = new Set<Listener>();
  let socket: WebSocket | null = null;
  let retryDelayMs = 250;

  function connect(): void {
    const wsUrl = new URL('/api/events', origin);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    wsUrl.searchParams.set('token', token);
    const ws = new WebSocket(wsUrl);
    socket = ws;
    ws.onopen = () => {
      retryDelayMs = 250;
    };
    ws.onmessage = (message) => {
      let parsed: { event?: string; payload?: unknown };
      try {
        parsed = JSON.parse(String(message.data));
      } catch {
        console.warn('Effitune: ignoring an event that is not JSON', message.data);
        return;
      }
      if (typeof parsed.event !== 'string') return;
      for (const listener of [...listeners]) listener(parsed.event, parsed.payload);
    };
    ws.onclose = () => {
      if (socket !== ws || listeners.size === 0) return;
      // Reconnect with backoff: the server may be restarting or the laptop waking up.
      setTimeout(() => {
        if (socket === ws && listeners.size > 0) connect();
      }, retryDelayMs);
      retryDelayMs = Math.min(retryDelayMs * 2, 5000);
    };
  }

  return {
    async call(name, input) {
      let response: Response;
      try {
        response = await fetch(new URL(`/api/call/${encodeURIComponent(name)}`, origin), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(input ?? {}),
        });
      } catch (err) {
        return { ok: false, error: { code: 'io_error', message: `cannot reach the Effitune server (${(err as Error).message}); is \`effitune serve\` still running?` } };
      }
      const text = await response.text();
      try {
        return JSON.parse(text) as Reply;
      } catch {
        const words = response.status === 401 ? 'the access token is missing or wrong: open the exact URL that `effitune serve` printed' : `${response.status} ${response.statusText}: ${text.slice(0, 200)}`;
        return { ok: false, error: { code: response.status === 401 ? 'invalid_input' : 'internal', message: `${name} failed: ${words}` } };
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!socket) connect();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && socket) {
          const ws = socket;
          socket = null;
          ws.close();
        }
      };
    },
    mediaUrl(kind, project, id) {
      const url = new URL(`/media/${kind}`, origin);
      url.searchParams.set('project', project);
      url.searchParams.set('id', String(id));
      url.searchParams.set('token', token);
      return url.toString();
    },
  };
}
