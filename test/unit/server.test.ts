/**
 * The HTTP + WebSocket door with a real Service on a temporary EFFITUNE_HOME: the token is
 * enforced, calls and their errors keep the contract's shape, events arrive on the WebSocket,
 * media and static files are served, and nothing leaks outside the renderer folder.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { Service } from '../../main/service/service';
import { MAX_BODY_BYTES, startServer, type RunningServer } from '../../main/server/server';
import { contentSecurityPolicy } from '../../main/server/security';

let tmp: string;
let service: Service;
let server: RunningServer;
let origin: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-server-test-'));
  const staticDir = path.join(tmp, 'renderer');
  fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Effitune test UI</title>');
  fs.writeFileSync(path.join(staticDir, 'assets', 'app-123.js'), 'console.log("app")');
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'outside the renderer folder');
  for (const [name, color] of [
    ['red', '#ff0000'],
    ['blue', '#0000ff'],
  ] as const) {
    fs.mkdirSync(path.join(tmp, 'images', name), { recursive: true });
    for (let i = 0; i < 3; i++) {
      await sharp({ create: { width: 40 + i, height: 30, channels: 3, background: color } })
        .jpeg()
        .toFile(path.join(tmp, 'images', name, `${i}.jpg`));
    }
  }
  service = new Service({ mode: 'browser', dataDir: path.join(tmp, 'home') });
  server = await startServer({ service, staticDir });
  origin = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function call(name: string, body: unknown, token: string | null = server.token) {
  return fetch(`${origin}/api/call/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Raw request, for headers fetch will not let us set (Host) and paths it would normalise (..). */
function rawGet(pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: pathAndQuery, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startServer', () => {
  test('listens on 127.0.0.1 with a 64-hex-digit token in the URL', () => {
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
  });

  test('API calls without the token, or with a wrong one, get 401', async () => {
    const missing = await call('app.info', {}, null);
    expect(missing.status).toBe(401);
    expect((await missing.json()).ok).toBe(false);
    expect((await call('app.info', {}, 'f'.repeat(64))).status).toBe(401);
    // The query-string token is for media and the WebSocket only; API calls need the header.
    const viaQuery = await fetch(`${origin}/api/call/app.info?token=${server.token}`, { method: 'POST', body: '{}' });
    expect(viaQuery.status).toBe(401);
  });

  test('a call returns {ok:true, value} from the service', async () => {
    const reply = await call('app.info', {});
    expect(reply.status).toBe(200);
    const body = await reply.json();
    expect(body).toEqual({ ok: true, value: expect.objectContaining({ mode: 'browser', dataDir: path.join(tmp, 'home') }) });
  });

  test('invalid input is 400 and names the field', async () => {
    const reply = await call('project.create', { path: '' });
    expect(reply.status).toBe(400);
    const body = await reply.json();
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('invalid_input');
    expect(body.error.message).toContain('path');
    expect(Array.isArray(body.error.details)).toBe(true);
  });

  test('error codes map to HTTP statuses: not_found 404, already_exists 409, unknown call 404', async () => {
    const missing = await call('project.status', { project: path.join(tmp, 'nope.effitune') });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('not_found');
    const file = path.join(tmp, 'twice.effitune');
    expect((await call('project.create', { path: file })).status).toBe(200);
    const again = await call('project.create', { path: file });
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe('already_exists');
    const unknown = await call('no.such.call', {});
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.message).toContain('no.such.call');
  });

  test('a body that is not JSON is 400; a body over the limit is 413', async () => {
    const bad = await call('app.info', '{not json');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/not valid JSON/);
    const huge = await call('app.info', JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES + 10) }));
    expect(huge.status).toBe(413);
  });

  test('a foreign Host header (DNS rebinding) or a cross-site Origin is refused', async () => {
    const rebound = await rawGet('/', { Host: `evil.example:${server.port}` });
    expect(rebound.status).toBe(403);
    const foreignApi = await fetch(`${origin}/api/call/app.info`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token}`, Origin: 'http://evil.example' },
      body: '{}',
    });
    expect(foreignApi.status).toBe(403);
    expect((await rawGet('/', { Host: `localhost:${server.port}` })).status).toBe(200);
  });

  test('events of an import arrive on the WebSocket; a socket without the token is refused', async () => {
    const refused = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`);
    const refusal = await new Promise<string>((resolve) => {
      refused.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      refused.on('open', () => resolve('open'));
      refused.on('error', (err) => resolve(err.message));
    });
    expect(refusal).toBe('401');

    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
    const received: { event: string; payload: { jobId?: string; phase?: string } }[] = [];
    socket.on('message', (data) => received.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));

    const project = path.join(tmp, 'events.effitune');
    expect((await call('project.create', { path: project })).status).toBe(200);
    const reply = await call('import.folder', { project, folder: path.join(tmp, 'images'), labelsFromFolders: true, jobId: 'job-ws' });
    const body = await reply.json();
    expect(body.ok).toBe(true);
    expect(body.value.imported).toBe(6);
    await expect.poll(() => received.some((m) => m.event === 'project.changed')).toBe(true);
    const progress = received.filter((m) => m.event === 'import.progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((m) => m.payload.jobId === 'job-ws')).toBe(true);
    socket.close();
  });

  test('media: thumbnails and full images need the token and come back as images', async () => {
    const project = path.join(tmp, 'events.effitune');
    const list = await (await call('images.list', { project })).json();
    const id = list.value.items[0].id as number;
    const query = `project=${encodeURIComponent(project)}&id=${id}`;

    expect((await fetch(`${origin}/media/thumb?${query}`)).status).toBe(401);
    const thumb = await fetch(`${origin}/media/thumb?${query}&token=${server.token}`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(meta.format).toBe('webp');

    const full = await fetch(`${origin}/media/full?${query}`, { headers: { Authorization: `Bearer ${server.token}` } });
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toMatch(/^image\//);

    expect((await fetch(`${origin}/media/thumb?project=${encodeURIComponent(project)}&id=999999&token=${server.token}`)).status).toBe(404);
    expect((await fetch(`${origin}/media/thumb?project=${encodeURIComponent(project)}&id=abc&token=${server.token}`)).status).toBe(400);
  });

  test('static files: the UI with its CSP, single-page fallback, no way out of the folder', async () => {
    const index = await fetch(`${origin}/?token=${server.token}`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('Effitune test UI');
    expect(index.headers.get('content-security-policy')).toBe(contentSecurityPolicy(server.port));
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(index.headers.get('referrer-policy')).toBe('no-referrer');

    const asset = await fetch(`${origin}/assets/app-123.js`);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await (await fetch(`${origin}/projects/some/route`)).text()).toContain('Effitune test UI');
    expect((await fetch(`${origin}/assets/missing.js`)).status).toBe(404);

    for (const sneaky of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%5c..%5csecret.txt']) {
      const res = await rawGet(sneaky);
      expect(res.body, sneaky).not.toContain('outside the renderer folder');
    }
  });
});
