/**
 * HTTP + WebSocket door of the contract (browser mode, e2e tests). No logic lives here: a request
 * becomes `service.call(name, body)` and the reply is the contract's {ok, value} | {ok, error}.
 *
 *   POST /api/call/<name>            JSON body → {ok:true,value} | {ok:false,error:{code,message,details}}
 *   GET  /api/events?token=T         WebSocket, pushes {event, payload}
 *   GET  /media/thumb?project&id     thumbnail (image/webp), /media/full?project&id the full image
 *   anything else                    the built renderer, with single-page-app fallback
 *
 * API calls need `Authorization: Bearer <token>`; media and the WebSocket also accept ?token=
 * because <img src> and `new WebSocket()` cannot set headers.
 *
 * It listens on 127.0.0.1 unless given another host (a GPU box served to a laptop). Beyond
 * loopback it needs TLS (https + wss) or an explicit `insecureLan`, answers to the names of that
 * host, and limits failed token attempts per client address (429 with Retry-After).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { ApiError, toErrorShape, type ApiErrorShape, type ErrorCode } from '../contract/contract';
import { bearerToken, contentSecurityPolicy, createToken, hostAllowed, originAllowed, tokenMatches, type ServedAs } from './security';
import type { DoorService } from '../service/door-service';
import { serveStatic } from '../service/static-files';
import { EventsSocket } from './events-socket';
import { isLoopbackIp, resolveListenAddress, type ListenAddress } from './listen-address';
import { DEFAULT_TOKEN_ATTEMPT_LIMITS, FailedTokenAttempts, type TokenAttemptLimits } from './rate-limit';
import { readTlsCredentials, type TlsCredentials, type TlsFiles } from './tls-options';

export interface ServerOptions {
  /** What the server needs of the service (main/service/door-service.ts); the real one is main/service/service.ts. */
  service: DoorService;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Built renderer; default <repo>/out/renderer. */
  staticDir?: string;
  /** Fixed token (tests); default 32 random bytes in hex. */
  token?: string;
  /** Address or host name to listen on; default 127.0.0.1. Anything not loopback needs `tls` or `insecureLan`. */
  host?: string;
  /** Certificate and key files: the server speaks https (and wss for events). */
  tls?: TlsFiles;
  /** Serve plain http beyond loopback: the user accepted that the token travels unencrypted. */
  insecureLan?: boolean;
  /** Failed token attempts allowed per client address (only when listening beyond loopback). */
  tokenAttemptLimits?: TokenAttemptLimits;
}

export interface RunningServer {
  /** Page URL including ?token=, ready to open in a browser. */
  url: string;
  token: string;
  port: number;
  /** The address it listens on, as given (0.0.0.0 for every interface). */
  host: string;
  /** True with TLS (https + wss). */
  secure: boolean;
  /** False when machines on the network can connect. */
  loopbackOnly: boolean;
  /** Things the user should know before opening the URL (a certificate for other names, one that expired), in words. */
  warnings: string[];
  close(): Promise<void>;
}

export const HOST = '127.0.0.1';
export const MAX_BODY_BYTES = 1024 * 1024;

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  invalid_input: 400,
  not_a_project: 400,
  not_found: 404,
  already_exists: 409,
  busy: 409,
};

export function httpStatusOf(code: ErrorCode): number {
  return STATUS_OF[code] ?? 500;
}

export function defaultStaticDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../out/renderer');
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { service } = options;
  const token = options.token ?? createToken();
  const staticDir = options.staticDir ?? defaultStaticDir();
  const address = await resolveListenAddress(options.host ?? HOST);
  if (!address.loopback && !options.tls && !options.insecureLan) throw refusePlainNetwork(address);
  const credentials = options.tls ? readTlsCredentials(options.tls) : null;
  const servedAs: ServedAs = { scheme: credentials ? 'https' : 'http', names: address.names };
  // On loopback nothing changes: a stale tab retrying with an old token must not lock out the new one.
  const attempts = address.loopback ? null : new FailedTokenAttempts(options.tokenAttemptLimits ?? DEFAULT_TOKEN_ATTEMPT_LIMITS);
  const events = new EventsSocket(service);
  let port = 0;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    setSecurityHeaders(res, port, servedAs);
    handleRequest(req, res).catch((err) => sendError(res, err));
  };
  const server = credentials ? https.createServer({ cert: credentials.cert, key: credentials.key }, onRequest) : http.createServer(onRequest);
  server.on('upgrade', (req, socket, head) => handleUpgrade(req, socket, head));
  server.on('clientError', (_err, socket) => socket.destroy());

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, port, servedAs.names)) {
      const names = ['127.0.0.1', 'localhost', ...servedAs.names].join(', ');
      sendError(res, new ApiError('invalid_input', `unexpected Host header: Effitune only answers to ${names}`), 403);
      return;
    }
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    if (url.pathname.startsWith('/api/')) {
      if (!originAllowed(req.headers.origin, port, servedAs)) return sendError(res, new ApiError('invalid_input', 'cross-origin request refused'), 403);
      if (!admitToken(req, res, bearerToken(req))) return;
      return handleApi(req, res, url);
    }
    if (url.pathname.startsWith('/media/')) {
      if (!admitToken(req, res, bearerToken(req) ?? url.searchParams.get('token'))) return;
      return handleMedia(req, res, url);
    }
    serveStatic(staticDir, req, res, url.pathname);
  }

  /** The token check with its rate limit; answers 401 or 429 itself and returns false when the request may not go on. */
  function admitToken(req: IncomingMessage, res: ServerResponse, given: string | null): boolean {
    const verdict = tokenVerdict(req, given);
    if (verdict.ok) return true;
    if (verdict.retryAfter) sendTooManyAttempts(res, verdict.retryAfter, verdict.client);
    else sendUnauthorized(res);
    return false;
  }

  function tokenVerdict(req: IncomingMessage, given: string | null): { ok: true } | { ok: false; retryAfter: number; client: string } {
    const client = clientAddress(req);
    const wait = attempts?.retryAfterSeconds(client) ?? 0;
    if (wait > 0) return { ok: false, retryAfter: wait, client };
    if (tokenMatches(token, given)) return { ok: true };
    if (attempts?.recordFailure(client)) {
      const { maxFailures, windowMs, blockMs } = attempts.limits;
      console.error(
        `effitune server: ${maxFailures} failed token attempts from ${client} within ${Math.round(windowMs / 1000)} s; ` +
          `answering 429 to that address for ${Math.round(blockMs / 1000)} s`,
      );
    }
    return { ok: false, retryAfter: 0, client };
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const match = /^\/api\/call\/([A-Za-z0-9_.-]+)$/.exec(url.pathname);
    if (!match) return sendError(res, new ApiError('not_found', `no API route ${url.pathname}`));
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendError(res, new ApiError('invalid_input', `use POST for ${url.pathname}`), 405);
    }
    const input = await readJsonBody(req);
    const value = await service.call(match[1], input);
    sendJson(res, 200, { ok: true, value });
  }

  async function handleMedia(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, new ApiError('invalid_input', 'use GET for media'), 405);
    const kind = url.pathname.slice('/media/'.length);
    const project = url.searchParams.get('project') ?? '';
    const idText = url.searchParams.get('id') ?? '';
    if (!project) return sendError(res, new ApiError('invalid_input', 'media: the "project" query parameter is required'));
    if (!/^\d+$/.test(idText)) return sendError(res, new ApiError('invalid_input', `media: "id" must be a whole number, got "${idText}"`));
    const id = Number(idText);
    if (kind === 'thumb') {
      const data = service.thumbnail(project, id);
      if (!data) return sendError(res, new ApiError('not_found', `image ${id} has no thumbnail`));
      return sendImage(req, res, data, 'image/webp');
    }
    if (kind === 'full') {
      const image = await service.fullImage(project, id);
      return sendImage(req, res, image.data, image.contentType);
    }
    sendError(res, new ApiError('not_found', `no media kind "${kind}" (use thumb or full)`));
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/api/events') return refuse('404 Not Found');
    if (!hostAllowed(req.headers.host, port, servedAs.names) || !originAllowed(req.headers.origin, port, servedAs)) return refuse('403 Forbidden');
    const verdict = tokenVerdict(req, bearerToken(req) ?? url.searchParams.get('token'));
    if (!verdict.ok) {
      if (!verdict.retryAfter) return refuse('401 Unauthorized');
      return void socket.end(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${verdict.retryAfter}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    events.accept(req, socket, head);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      events.close();
      reject(listenError(err, address.host, options.port ?? 0));
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, address.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  port = (server.address() as { port: number }).port;
  const urlHost = urlHostOf(address, credentials);

  return {
    url: `${servedAs.scheme}://${urlHost}:${port}/?token=${token}`,
    token,
    port,
    host: address.host,
    secure: credentials !== null,
    loopbackOnly: address.loopback,
    warnings: credentials ? certificateWarnings(credentials, urlHost) : [],
    close: () =>
      new Promise<void>((resolve) => {
        events.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function refusePlainNetwork(address: ListenAddress): ApiError {
  const where = address.wildcard ? `every network interface (${address.host})` : address.host;
  return new ApiError(
    'invalid_input',
    `refusing to serve on ${where} without TLS: anyone on that network could read the token from the traffic and then drive the app. ` +
      'The simple safe way is an SSH tunnel: serve on loopback on the box (effitune serve --port 8765 --no-open) and run ' +
      '"ssh -N -L 8765:127.0.0.1:8765 USER@BOX" on your laptop, then open the printed URL there. ' +
      'Otherwise give --tls-cert FILE --tls-key FILE, or --insecure-lan on a network you trust.',
  );
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') return new ApiError('busy', `port ${port} on ${host} is already in use; pick another with --port or use 0 for any free port`);
  if (err.code === 'EADDRNOTAVAIL') return new ApiError('invalid_input', `cannot listen on ${host}: it is not an address of this machine`);
  if (err.code === 'EACCES') return new ApiError('invalid_input', `not allowed to listen on port ${port} of ${host} (ports below 1024 need privileges); pick another with --port`);
  return err;
}

/** Browsers refuse a certificate that is not for the name in the address bar or has expired; say so before they do. */
function certificateWarnings(credentials: TlsCredentials, urlHost: string): string[] {
  const warnings: string[] = [];
  if (credentials.validTo.getTime() < Date.now()) warnings.push(`the TLS certificate expired on ${credentials.validTo.toISOString()}`);
  if (!certificateCovers(credentials, urlHost)) {
    const names = credentials.names.length ? credentials.names.join(', ') : 'no names';
    warnings.push(`the TLS certificate is for ${names}, not ${urlHost}: browsers will warn when opening the URL`);
  }
  return warnings;
}

/** True when the certificate is for this URL host; a wildcard (*.lab.example) covers one more label in front (box.lab.example). */
function certificateCovers(credentials: TlsCredentials, urlHost: string): boolean {
  const wanted = urlHost.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return credentials.names.some((name) => name === wanted || (name.startsWith('*.') && wanted.split('.').slice(1).join('.') === name.slice(2)));
}

/**
 * The host of the printed URL: the one given, or for every interface (0.0.0.0) a name of this
 * machine the certificate is for, so the laptop's browser accepts it; else its first LAN address.
 */
function urlHostOf(address: ListenAddress, credentials: TlsCredentials | null): string {
  if (!credentials || !address.wildcard) return address.urlHost;
  const reachable = address.names.filter((name) => !isLoopbackIp(name.replace(/^\[(.*)\]$/, '$1')) && name !== 'localhost');
  return reachable.find((name) => certificateCovers(credentials, name)) ?? address.urlHost;
}

/** Where a request comes from, without the IPv4-mapped IPv6 prefix a dual-stack socket adds. */
function clientAddress(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.)/, '');
}

/** `port` is the one the server listens on (requests arrive only once it listens). */
function setSecurityHeaders(res: ServerResponse, port: number, servedAs: ServedAs): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(port, servedAs));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // The token travels in the page URL; no Referer may carry it elsewhere.
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError('invalid_input', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Invalid input like any other, but answered with 413 so HTTP tools understand it. */
class BodyTooLarge extends ApiError {
  constructor() {
    super('invalid_input', `the request body is larger than ${MAX_BODY_BYTES} bytes`);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown, status?: number): void {
  const error: ApiErrorShape = toErrorShape(err);
  const code = status ?? (err instanceof BodyTooLarge ? 413 : httpStatusOf(error.code));
  // Expected errors are the user's to read (io_error too: a read-only or full disk, named in the
  // message); an internal one is a bug worth a trace in the server log.
  if (error.code === 'internal') console.error('effitune server:', err);
  else if (code >= 500) console.error(`effitune server: ${error.code}: ${error.message}`);
  sendJson(res, code, { ok: false, error });
}

function sendTooManyAttempts(res: ServerResponse, retryAfterSeconds: number, client: string): void {
  res.setHeader('Retry-After', String(retryAfterSeconds));
  sendError(res, new ApiError('busy', `too many wrong tokens from ${client}: try again in ${retryAfterSeconds} s with the URL Effitune printed`), 429);
}

function sendUnauthorized(res: ServerResponse): void {
  res.setHeader('WWW-Authenticate', 'Bearer');
  sendError(res, new ApiError('invalid_input', 'missing or wrong token: open Effitune with the URL it printed (it includes ?token=...)'), 401);
}

function sendImage(req: IncomingMessage, res: ServerResponse, data: Buffer, contentType: string): void {
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': data.length, 'Cache-Control': 'private, max-age=300' });
  res.end(req.method === 'HEAD' ? undefined : data);
}
