/**
 * The guards of browser mode. By default the server listens on loopback only, but any web page the
 * user opens can still reach 127.0.0.1, so every API and media request must carry the random token,
 * and the Host header must name the loopback host (a DNS-rebinding page would send its own name).
 * Served to the network (`serve --host`), the Host header may also name the address or name the
 * server was given (ServedAs.names), and the page's origin is https when the server has TLS.
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function createToken(): string {
  return crypto.randomBytes(32).toString('hex');
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match ? match[1] : null;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** How pages reach the server: its scheme and the host names it answers to besides the loopback ones. */
export interface ServedAs {
  scheme: 'http' | 'https';
  /** Lower case, IPv6 in brackets (as in a Host header). */
  names: readonly string[];
}

export const LOOPBACK_HTTP: ServedAs = { scheme: 'http', names: [] };

/** True when the Host header is a loopback name (or one of `names`) with our port (or no port, as some clients send). */
export function hostAllowed(hostHeader: string | undefined, port: number, names: readonly string[] = []): boolean {
  if (!hostHeader) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!match) return false;
  const [, name, portText] = match;
  if (!LOOPBACK_NAMES.has(name) && !names.includes(name)) return false;
  return portText === undefined || Number(portText) === port;
}

/** Browsers send Origin on WebSocket handshakes and cross-origin requests; when present it must be ours. */
export function originAllowed(originHeader: string | undefined, port: number, servedAs: ServedAs = LOOPBACK_HTTP): boolean {
  if (!originHeader) return true;
  try {
    const origin = new URL(originHeader);
    // URL drops the default port (443 for https); the Host check then accepts a name without a port.
    return origin.protocol === `${servedAs.scheme}:` && hostAllowed(origin.host, port, servedAs.names);
  } catch {
    return false;
  }
}

/**
 * The Content-Security-Policy of every response of the server listening on `port`. Scripts, styles
 * and fetches stay on the page's own origin; the only WebSocket the page may open is this server's
 * event socket (ws://127.0.0.1:PORT, or ws://localhost:PORT for a page opened as localhost; wss://
 * and the served names with TLS), so a script that got in could not talk to another service.
 */
export function contentSecurityPolicy(port: number, servedAs: ServedAs = LOOPBACK_HTTP): string {
  // not yet listening (no request arrives then): no WebSocket at all, rather than any port
  const listening = Number.isInteger(port) && port >= 1 && port <= 65535;
  const wsScheme = servedAs.scheme === 'https' ? 'wss' : 'ws';
  const sockets = [...new Set(['127.0.0.1', 'localhost', ...servedAs.names])].map((name) => `${wsScheme}://${name}:${port}`);
  return [
    "default-src 'self'",
    "img-src 'self' data: blob:",
    listening ? `connect-src 'self' ${sockets.join(' ')}` : "connect-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}
