/**
 * `effitune serve --host` for a GPU box, as a child process: beyond loopback it refuses plain http
 * unless told --insecure-lan (which says what it exposes); with a self-signed certificate made here
 * by openssl it speaks https + wss, a client with the token works and one without is refused, forged
 * Origins are refused, and repeated wrong tokens from one address get 429 with Retry-After while
 * other addresses go on working. Certificate and key problems are reported naming the file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import NodeWebSocket from 'ws';
import { resolveListenAddress } from '../../main/server/listen-address';
import { FailedTokenAttempts } from '../../main/server/rate-limit';
import { readTlsCredentials } from '../../main/server/tls-options';
import { ensureRendererBuilt } from '../../scripts/renderer-build.mjs';
import { launchBrowser } from '../e2e/harness';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repoRoot, 'bin', 'effitune.mjs');
const OPENSSL = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
/** This machine's first non-loopback IPv4 address, when it has one (a client connecting to it is not loopback). */
const LAN_IP = Object.values(os.networkInterfaces())
  .flatMap((list) => list ?? [])
  .find((i) => i.family === 'IPv4' && !i.internal)?.address;

let tmp: string;
let home: string;
const children = new Set<ChildProcess>();

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-serve-remote-'));
  home = path.join(tmp, 'home');
  fs.mkdirSync(home);
});

afterAll(async () => {
  await Promise.all([...children].map(stop));
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Served {
  info: { url: string; port: number; token: string; host: string; secure: boolean };
  stderr(): string;
  child: ChildProcess;
}

function spawnServe(args: string[]): { child: ChildProcess; stderr(): string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--json', '--no-open', ...args], {
    cwd: repoRoot,
    env: { ...process.env, EFFITUNE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (children.delete(child), resolve(code))));
  return { child, stderr: () => stderr, exited };
}

async function startServe(args: string[]): Promise<Served> {
  const { child, stderr, exited } = spawnServe(args);
  const info = await new Promise<Served['info']>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`serve printed no URL within 30 s\nstderr: ${stderr()}`)), 30_000);
    void exited.then((code) => (clearTimeout(timer), reject(new Error(`serve exited early (code ${code})\nstdout: ${stdout}\nstderr: ${stderr()}`))));
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (!stdout.includes('\n')) return;
      clearTimeout(timer);
      resolve(JSON.parse(stdout.slice(0, stdout.indexOf('\n'))));
    });
  });
  return { info, stderr, child };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => (clearTimeout(killer), resolve()));
    child.kill('SIGTERM');
  });
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * An https request that trusts only `ca` (full verification of the test's self-signed certificate,
 * as localhost: a forged Host header must not change the name TLS checks).
 */
function httpsRequest(url: string, ca: Buffer, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: options.method ?? 'GET', headers: options.headers, ca, servername: 'localhost', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Where the test reaches a TLS server: its printed URL when this machine has a LAN address (the
 * certificate is for it), else loopback (the server then listens on every interface).
 */
function reachableOrigin(info: Served['info']): string {
  return LAN_IP ? new URL(info.url).origin : `https://127.0.0.1:${info.port}`;
}

function callApi(origin: string, ca: Buffer, token: string | null, headers: Record<string, string> = {}): Promise<Reply> {
  return httpsRequest(`${origin}/api/call/app.info`, ca, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: '{}',
  });
}

/** A self-signed certificate for localhost, 127.0.0.1 and this machine's LAN address, and its key. */
function makeCertificate(name: string): { certFile: string; keyFile: string } {
  const certFile = path.join(tmp, `${name}-cert.pem`);
  const keyFile = path.join(tmp, `${name}-key.pem`);
  const altNames = ['DNS:localhost', 'IP:127.0.0.1', ...(LAN_IP ? [`IP:${LAN_IP}`] : [])].join(',');
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyFile, '-out', certFile, '-addext', `subjectAltName=${altNames}`],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
  return { certFile, keyFile };
}

describe('serve beyond loopback without TLS', () => {
  test(`is refused with exit code 1 and the SSH tunnel named (${LAN_IP ?? '0.0.0.0'})`, { timeout: 30_000 }, async () => {
    const { stderr, exited } = spawnServe(['--host', LAN_IP ?? '0.0.0.0']);
    expect(await exited).toBe(1);
    expect(stderr()).toMatch(/refusing to serve on .* without TLS/);
    expect(stderr()).toContain('ssh -N -L');
    expect(stderr()).toContain('--insecure-lan');
  });

  test('--insecure-lan serves plain http and says what it exposes', { timeout: 30_000 }, async () => {
    const served = await startServe(['--host', '0.0.0.0', '--insecure-lan']);
    try {
      expect(served.info.secure).toBe(false);
      expect(served.info.host).toBe('0.0.0.0');
      expect(served.info.url).toMatch(/^http:\/\//);
      const log = served.stderr();
      expect(log).toContain(`listening on 0.0.0.0 port ${served.info.port}`);
      expect(log).toContain('Anyone on the network who gets the token can drive the app');
      expect(log).toContain('read the image files of any project');
      expect(log).toContain('start training');
      expect(log).toContain('NOT encrypted');
      const ok = await fetch(`http://127.0.0.1:${served.info.port}/api/call/app.info`, { method: 'POST', headers: { Authorization: `Bearer ${served.info.token}` }, body: '{}' });
      expect(ok.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${served.info.port}/api/call/app.info`, { method: 'POST', body: '{}' })).status).toBe(401);
    } finally {
      await stop(served.child);
    }
  });
});

describe.skipIf(!OPENSSL)('serve with TLS (skipped when openssl is not installed: it makes the test certificate)', () => {
  let served: Served;
  let ca: Buffer;
  let tlsArgs: string[];

  beforeAll(async () => {
    const files = makeCertificate('server');
    ca = fs.readFileSync(files.certFile);
    tlsArgs = ['--host', LAN_IP ?? '0.0.0.0', '--tls-cert', files.certFile, '--tls-key', files.keyFile];
    served = await startServe(tlsArgs);
  }, 60_000);

  afterAll(async () => {
    if (served) await stop(served.child);
  });

  test('prints an https URL with the host given and no certificate warning', () => {
    const host = LAN_IP ?? '0.0.0.0';
    expect(served.info.secure).toBe(true);
    expect(served.info.host).toBe(host);
    expect(served.info.url).toMatch(new RegExp(`^https://${(LAN_IP ?? '[^:/]+').replace(/\./g, '\\.')}:${served.info.port}/\\?token=[0-9a-f]{64}$`));
    expect(served.stderr()).toContain('Traffic is encrypted (TLS)');
    // Without a LAN address the URL names the host name, which the test certificate is not for.
    if (LAN_IP) expect(served.stderr()).not.toContain('Warning: the TLS certificate');
  });

  test('a client with the token works over https; one without is refused', { timeout: 30_000 }, async () => {
    const origin = reachableOrigin(served.info);
    const ok = await callApi(origin, ca, served.info.token);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ ok: true, value: { mode: 'browser' } });
    expect((await callApi(origin, ca, null)).status).toBe(401);
    expect((await httpsRequest(`${origin}/media/thumb?project=x&id=1`, ca)).status).toBe(401);
    // The page's own origin (the host given, https) passes; forged or plain-http ones do not.
    expect((await callApi(origin, ca, served.info.token, { Origin: origin })).status).toBe(200);
    expect((await callApi(origin, ca, served.info.token, { Origin: 'https://evil.example' })).status).toBe(403);
    expect((await callApi(origin, ca, served.info.token, { Origin: origin.replace('https:', 'http:') })).status).toBe(403);
    // A DNS-rebinding page sends its own name as Host.
    expect((await callApi(origin, ca, served.info.token, { Host: `evil.example:${served.info.port}` })).status).toBe(403);
    const page = await httpsRequest(`${origin}/`, ca);
    expect(page.headers['content-security-policy']).toContain(`wss://${new URL(origin).hostname}:${served.info.port}`);
  });

  test('events arrive over wss with the token; without it the handshake gets 401', { timeout: 30_000 }, async () => {
    const wsOrigin = reachableOrigin(served.info).replace('https:', 'wss:');
    // ws hands these to tls.connect (its types do not list servername); verified as localhost, like httpsRequest.
    const trustTestCa = { ca, servername: 'localhost' };
    const socket = new NodeWebSocket(`${wsOrigin}/api/events?token=${served.info.token}`, trustTestCa);
    await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
    socket.close();
    const refused = new NodeWebSocket(`${wsOrigin}/api/events`, trustTestCa);
    const status = await new Promise<number>((resolve, reject) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
      refused.once('open', () => reject(new Error('a socket without the token was accepted')));
    });
    expect(status).toBe(401);
  });

  test('in a real browser over https: the page calls the API and gets events over wss under its CSP', { timeout: 240_000 }, async () => {
    await ensureRendererBuilt();
    const browser = await launchBrowser();
    try {
      // The test certificate is self-signed: the browser is told to accept it, as a user would.
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(`${reachableOrigin(served.info)}/?token=${served.info.token}`);
      const project = path.join(home, 'remote-smoke.effitune');
      const outcome = await page.evaluate(
        async ({ token, project }) => {
          const events: string[] = [];
          const socket = new WebSocket(`wss://${location.host}/api/events?token=${token}`);
          socket.onmessage = (m) => events.push(JSON.parse(String(m.data)).event);
          await new Promise((resolve, reject) => ((socket.onopen = resolve), (socket.onerror = reject)));
          const reply = await fetch('/api/call/sample.create', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify({ path: project, imagesPerClass: 2 }) });
          const body = await reply.json();
          await new Promise((r) => setTimeout(r, 200));
          socket.close();
          return { protocol: location.protocol, ok: body.ok, error: body.error, events };
        },
        { token: served.info.token, project },
      );
      expect(outcome.error).toBeUndefined();
      expect(outcome).toMatchObject({ protocol: 'https:', ok: true });
      expect(outcome.events).toContain('project.changed');
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  test('repeated wrong tokens from one address get 429 with Retry-After, logged; the right token is refused then too', { timeout: 30_000 }, async () => {
    // A server of its own (on every interface, so loopback reaches it too): the failures of the
    // other tests must not count here.
    const fresh = await startServe(['--host', '0.0.0.0', ...tlsArgs.slice(2)]);
    try {
      const origin = reachableOrigin(fresh.info);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await callApi(origin, ca, 'f'.repeat(64))).status);
      expect(statuses).toEqual(Array(10).fill(401));
      const blocked = await callApi(origin, ca, 'f'.repeat(64));
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect(JSON.parse(blocked.body).error.message).toMatch(/too many wrong tokens/);
      expect((await callApi(origin, ca, fresh.info.token)).status).toBe(429);
      expect((await httpsRequest(`${origin}/media/thumb?project=x&id=1&token=${fresh.info.token}`, ca)).status).toBe(429);
      expect(fresh.stderr()).toMatch(/10 failed token attempts from \S+ within 60 s; answering 429/);
      // The limit is per address: through loopback (another client address) the token still works.
      if (LAN_IP) expect((await callApi(`https://127.0.0.1:${fresh.info.port}`, ca, fresh.info.token)).status).toBe(200);
    } finally {
      await stop(fresh.child);
    }
  });
});

describe.skipIf(!OPENSSL)('certificate and key files (skipped when openssl is not installed)', () => {
  test('a missing, non-PEM, swapped or mismatched file is named in the error', { timeout: 30_000 }, () => {
    const one = makeCertificate('one');
    const two = makeCertificate('two');
    const text = path.join(tmp, 'notes.txt');
    fs.writeFileSync(text, 'not a certificate');
    expect(readTlsCredentials(one).names).toEqual(expect.arrayContaining(['localhost', '127.0.0.1']));
    const missing = path.join(tmp, 'missing.pem');
    expect(() => readTlsCredentials({ certFile: missing, keyFile: one.keyFile })).toThrow(`the TLS certificate file ${missing} does not exist`);
    expect(() => readTlsCredentials({ certFile: text, keyFile: one.keyFile })).toThrow(`the TLS certificate ${text} is not a PEM certificate`);
    expect(() => readTlsCredentials({ certFile: one.certFile, keyFile: one.certFile })).toThrow(/is not a PEM private key .*swapped/);
    expect(() => readTlsCredentials({ certFile: one.certFile, keyFile: two.keyFile })).toThrow(`the TLS key ${two.keyFile} does not belong to the certificate ${one.certFile}`);
    expect(() => readTlsCredentials({ certFile: tmp, keyFile: one.keyFile })).toThrow(`is a folder, not a file`);
  });

  test('serve with a missing key file exits 2 naming it', { timeout: 30_000 }, async () => {
    const files = makeCertificate('cli');
    const missingKey = path.join(tmp, 'no-such-key.pem');
    const { stderr, exited } = spawnServe(['--host', '127.0.0.1', '--tls-cert', files.certFile, '--tls-key', missingKey]);
    expect(await exited).toBe(2);
    expect(stderr()).toContain(`the TLS key file ${missingKey} does not exist`);
  });
});

describe('the pieces, in process', () => {
  test('failed attempts block an address only after N within the window, for the block time', () => {
    let now = 0;
    const attempts = new FailedTokenAttempts({ maxFailures: 3, windowMs: 1000, blockMs: 5000 }, () => now);
    expect(attempts.recordFailure('a')).toBe(false);
    now = 1500; // the first failure left the window
    expect(attempts.recordFailure('a')).toBe(false);
    expect(attempts.recordFailure('a')).toBe(false);
    expect(attempts.retryAfterSeconds('a')).toBe(0);
    expect(attempts.recordFailure('a')).toBe(true);
    expect(attempts.retryAfterSeconds('a')).toBe(5);
    expect(attempts.retryAfterSeconds('b')).toBe(0);
    now = 1500 + 4001;
    expect(attempts.retryAfterSeconds('a')).toBe(1);
    now = 1500 + 5000;
    expect(attempts.retryAfterSeconds('a')).toBe(0);
    expect(attempts.recordFailure('a')).toBe(false);
  });

  test('listen addresses: loopback or not, the names accepted, bad input named', async () => {
    expect(await resolveListenAddress('127.0.0.1')).toMatchObject({ loopback: true, wildcard: false });
    expect(await resolveListenAddress('localhost')).toMatchObject({ loopback: true, names: [] });
    expect(await resolveListenAddress('[::1]')).toMatchObject({ host: '::1', loopback: true, urlHost: '[::1]' });
    const all = await resolveListenAddress('0.0.0.0');
    expect(all).toMatchObject({ loopback: false, wildcard: true });
    if (LAN_IP) expect(all.names).toContain(LAN_IP);
    if (LAN_IP) expect(await resolveListenAddress(LAN_IP)).toMatchObject({ loopback: false, names: [LAN_IP], urlHost: LAN_IP });
    await expect(resolveListenAddress('bad host!')).rejects.toThrow('--host must be an IP address or a host name, got "bad host!"');
    await expect(resolveListenAddress('no-such-host.invalid')).rejects.toThrow('--host no-such-host.invalid: the name does not resolve');
  });
});
