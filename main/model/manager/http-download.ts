/**
 * Downloads one URL into a ".part" file that survives interruptions: when the part file already
 * holds bytes, the request asks for the rest with an HTTP Range header and appends. A server that
 * ignores the range (200 instead of 206) gets the file again from the start. Nothing here checks
 * the content; the caller verifies the checksum before it trusts the file.
 *
 * Plain node:http/https rather than fetch: their error codes (ENOTFOUND, ECONNREFUSED, …) tell an
 * offline machine from a broken transfer, and the socket timeout makes an unreachable host fail
 * in seconds, not minutes.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { ApiError } from '../../contract/contract';

export interface TransferProgress {
  receivedBytes: number;
  totalBytes: number | null;
  /** bytes already in the part file when this transfer started */
  resumedFrom: number;
}

export interface DownloadOptions {
  url: string;
  partFile: string;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  /** no byte (connect, headers or body) for this long aborts the transfer; default 15 s */
  timeoutMs?: number;
  /** text appended to "cannot reach <host>" errors: what to do offline */
  offlineHint?: string;
}

export interface DownloadResult {
  totalBytes: number;
  resumedFrom: number;
}

const MAX_REDIRECTS = 5;
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ENETDOWN']);

export async function downloadWithResume(options: DownloadOptions): Promise<DownloadResult> {
  const { partFile } = options;
  let offset = fs.existsSync(partFile) ? fs.statSync(partFile).size : 0;
  let response = await request(options, options.url, offset);

  if (response.statusCode === 416) {
    // Range not satisfiable: the part file is already complete (or longer than the file, then start over)
    const total = contentRangeTotal(response.headers['content-range']);
    response.resume();
    if (total !== null && total === offset) return { totalBytes: total, resumedFrom: offset };
    fs.rmSync(partFile, { force: true });
    offset = 0;
    response = await request(options, options.url, 0);
  }

  const status = response.statusCode ?? 0;
  let totalBytes: number | null;
  let resumedFrom: number;
  if (status === 206 && offset > 0) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(response.headers['content-range'] ?? ''));
    if (!range || Number(range[1]) !== offset) {
      response.resume();
      throw new ApiError('io_error', `${hostOf(options.url)} answered a range request for ${options.url} with "${response.headers['content-range'] ?? 'no Content-Range'}", expected bytes ${offset}-…`);
    }
    resumedFrom = offset;
    totalBytes = range[3] === '*' ? null : Number(range[3]);
  } else if (status === 200) {
    resumedFrom = 0;
    const length = Number(response.headers['content-length']);
    totalBytes = Number.isFinite(length) && response.headers['content-length'] !== undefined ? length : null;
  } else {
    response.resume();
    const code = status === 404 ? 'not_found' : 'io_error';
    throw new ApiError(code, `${hostOf(options.url)} answered ${status} ${response.statusMessage ?? ''} for ${options.url}`.trim());
  }

  let received = resumedFrom;
  const report = () => options.onProgress?.({ receivedBytes: received, totalBytes, resumedFrom });
  report();
  const failure = await saveBody(response, partFile, resumedFrom > 0, options.signal, (bytes) => {
    received += bytes;
    report();
  });
  // a server that closes the connection cleanly but early leaves a short file without an error
  if (failure || (totalBytes !== null && received !== totalBytes)) {
    throw transferError(options, failure ?? new Error('the connection closed early'), received, totalBytes);
  }
  return { totalBytes: received, resumedFrom };
}

/**
 * Write the response body to the part file. When the transfer breaks (network error, cancel),
 * the bytes already received are still flushed to disk before returning, so the next attempt
 * resumes after them; a pipeline would destroy the file stream and drop its buffer. Resolves
 * with the transfer's error, or null when the body arrived whole; rejects on a disk error.
 */
function saveBody(response: http.IncomingMessage, file: string, append: boolean, signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<Error | null> {
  return new Promise((resolve, reject) => {
    const out = fs.createWriteStream(file, { flags: append ? 'a' : 'w' });
    let failure: Error | null = null;
    const abort = () => response.destroy(new Error('cancelled'));
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
    response.on('data', (chunk: Buffer) => {
      onBytes(chunk.length);
      if (!out.write(chunk)) {
        response.pause();
        out.once('drain', () => response.resume());
      }
    });
    response.on('error', (err) => (failure ??= err));
    response.on('close', () => {
      if (!response.complete) failure ??= new Error('the connection closed early');
      out.end();
    });
    out.on('finish', () => {
      signal?.removeEventListener('abort', abort);
      resolve(failure);
    });
    out.on('error', (err) => {
      signal?.removeEventListener('abort', abort);
      response.destroy();
      reject(transferFileError(file, err));
    });
  });
}

/** One GET (following redirects), resolving once the response headers have arrived. */
function request(options: DownloadOptions, url: string, offset: number, redirects = 0): Promise<http.IncomingMessage> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ApiError('invalid_input', `"${url}" is not a valid URL`);
  }
  const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
  if (!client) throw new ApiError('invalid_input', `cannot download ${url}: only http and https URLs are supported`);
  const timeout = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(cancelled(0));
    const req = client.get(parsed, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, timeout, signal: options.signal }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new ApiError('io_error', `too many redirects while downloading ${options.url}`));
        request(options, new URL(res.headers.location, parsed).toString(), offset, redirects + 1).then(resolve, reject);
        return;
      }
      res.setTimeout(timeout, () => res.destroy(Object.assign(new Error(`no data for ${timeout / 1000} s`), { code: 'ETIMEDOUT' })));
      resolve(res);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeout / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (options.signal?.aborted) return reject(cancelled(offset));
      const code = err.code ?? '';
      const why = code ? `${code}: ${err.message}` : err.message;
      if (UNREACHABLE.has(code)) {
        const hint = options.offlineHint ? ` ${options.offlineHint}` : '';
        reject(new ApiError('io_error', `cannot reach ${parsed.host}: offline?${hint} (${why})`));
      } else {
        reject(new ApiError('io_error', `cannot download ${url}: ${why}`));
      }
    });
  });
}

function transferError(options: DownloadOptions, err: unknown, received: number, total: number | null): ApiError {
  if (options.signal?.aborted) return cancelled(received);
  const e = err as NodeJS.ErrnoException;
  const why = e.code ? `${e.code}: ${e.message}` : e.message;
  const of = total === null ? '' : ` of ${total}`;
  return new ApiError('io_error', `the download of ${options.url} broke off after ${received}${of} bytes (${why}); the partial file is kept: download again to resume`);
}

function transferFileError(file: string, err: NodeJS.ErrnoException): ApiError {
  return new ApiError('io_error', `cannot write ${file}: ${err.code ? `${err.code}: ` : ''}${err.message}`);
}

function cancelled(received: number): ApiError {
  return new ApiError('cancelled', `download cancelled after ${received} bytes; the partial file is kept: download again to resume`);
}

function contentRangeTotal(header: string | undefined): number | null {
  const m = /\/(\d+)$/.exec(header ?? '');
  return m ? Number(m[1]) : null;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
