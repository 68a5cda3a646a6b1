/**
 * `effitune serve` as a child process (through the e2e harness) and a real Chromium: the page
 * loads under its Content-Security-Policy, and from inside it API calls, the event WebSocket and
 * thumbnail URLs all work, while requests without the token are refused. Stopping the process
 * closes the port.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { ensureRendererBuilt } from '../../scripts/renderer-build.mjs';
import { launchBrowser, startApp, type RunningApp } from '../e2e/harness';

const RESULTS = path.resolve('test-results');
let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  await ensureRendererBuilt();
  app = await startApp();
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('effitune serve', () => {
  test('refuses API and media requests without the token', { timeout: 60_000 }, async () => {
    const origin = new URL(app.url).origin;
    expect((await fetch(`${origin}/api/call/app.info`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(`${origin}/media/thumb?project=x&id=1`)).status).toBe(401);
    const page = await fetch(app.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  test('in a real browser: calls, events and thumbnails work under the CSP', { timeout: 240_000 }, async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(app.url);
    const project = path.join(app.dataDir, 'serve-smoke.effitune');
    const outcome = await page.evaluate(
      async ({ token, project }) => {
        const events: string[] = [];
        const socket = new WebSocket(`ws://${location.host}/api/events?token=${token}`);
        socket.onmessage = (m) => events.push(JSON.parse(String(m.data)).event);
        await new Promise((resolve, reject) => ((socket.onopen = resolve), (socket.onerror = reject)));
        const call = async (name: string, input: unknown) =>
          (await fetch(`/api/call/${name}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify(input) })).json();
        const sample = await call('sample.create', { path: project, imagesPerClass: 2 });
        const list = await call('images.list', { project, limit: 1 });
        const img = new Image();
        img.src = `/media/thumb?project=${encodeURIComponent(project)}&id=${list.value.items[0].id}&token=${token}`;
        await img.decode();
        await new Promise((r) => setTimeout(r, 200));
        socket.close();
        return { ok: sample.ok, imported: sample.value?.import.imported, events, thumbWidth: img.naturalWidth };
      },
      { token: app.token, project },
    );
    expect(outcome.ok).toBe(true);
    expect(outcome.imported).toBeGreaterThan(0);
    expect(outcome.events).toContain('import.progress');
    expect(outcome.events).toContain('project.changed');
    expect(outcome.thumbWidth).toBeGreaterThan(0);
    expect(violations).toEqual([]);
    fs.mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: path.join(RESULTS, 'serve-smoke.png') });
    await page.close();
  });

  test('stopping the process closes the port', { timeout: 60_000 }, async () => {
    const port = app.port;
    expect(await portIsOpen(port)).toBe(true);
    await app.stop();
    expect(await portIsOpen(port)).toBe(false);
    expect(app.log()).toContain('Stopping Effitune');
  });
});
