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
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { ApiError, toErrorShape, type ApiErrorShape, type ErrorCode } from '../contract/contract';
import { bearerToken, contentSecurityPolicy, createToken, hostAllowed, originAllowed, tokenMatches } from './security';
import type { DoorService } from '../service/door-service';
import { serveStatic } from '../service/static-files';
import { EventsSocket } from './events-socket';

export interface ServerOptions {
  /** What the server needs of the service (main/service/door-service.ts); the real one is main/service/service.ts. */
  service: DoorService;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Built renderer; default <repo>/out/renderer. */
  staticDir?: string;
  /** Fixed token (tests); default 32 random bytes in hex. */
  token?: string;
}

export interface RunningServer {
  /** Page URL including ?token=, ready to open in a browser. */
  url: string;
  token: string;
  port: number;
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
  const events = new EventsSocket(service);
  let port = 0;

  const server = http.createServer((req, res) => {
    setSecurityHeaders(res, port);
    handleRequest(req, res).catch((err) => sendError(res, err));
  });
  server.on('upgrade', (req, socket, head) => handleUpgrade(req, socket, head));
  server.on('clientError', (_err, socket) => socket.destroy());

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, port)) {
      sendError(res, new ApiError('invalid_input', 'unexpected Host header: Effitune only answers to 127.0.0.1 and localhost'), 403);
      return;
    }
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    if (url.pathname.startsWith('/api/')) {
      if (!originAllowed(req.headers.origin, port)) return sendError(res, new ApiError('invalid_input', 'cross-origin request refused'), 403);
      if (!tokenMatches(token, bearerToken(req))) return sendUnauthorized(res);
      return handleApi(req, res, url);
    }
    if (url.pathname.startsWith('/media/')) {
      if (!tokenMatches(token, bearerToken(req) ?? url.searchParams.get('token'))) return sendUnauthorized(res);
      return handleMedia(req, res, url);
    }
    serveStatic(staticDir, req, res, url.pathname);
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
    if (!hostAllowed(req.headers.host, port) || !originAllowed(req.headers.origin, port)) return refuse('403 Forbidden');
    if (!tokenMatches(token, bearerToken(req) ?? url.searchParams.get('token'))) return refuse('401 Unauthorized');
    events.accept(req, socket, head);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      events.close();
      reject(
        err.code === 'EADDRINUSE'
          ? new ApiError('busy', `port ${options.port} on ${HOST} is already in use; pick another with --port or use 0 for any free port`)
          : err,
      );
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', onError);
      resolve();
    });
  });
  port = (server.address() as { port: number }).port;

  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        events.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `port` is the one the server listens on (requests arrive only once it listens). */
function setSecurityHeaders(res: ServerResponse, port: number): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(port));
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

function sendUnauthorized(res: ServerResponse): void {
  res.setHeader('WWW-Authenticate', 'Bearer');
  sendError(res, new ApiError('invalid_input', 'missing or wrong token: open Effitune with the URL it printed (it includes ?token=...)'), 401);
}

function sendImage(req: IncomingMessage, res: ServerResponse, data: Buffer, contentType: string): void {
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': data.length, 'Cache-Control': 'private, max-age=300' });
  res.end(req.method === 'HEAD' ? undefined : data);
}
