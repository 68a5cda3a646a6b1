/**
 * `effitune serve` opening the browser (main/cli/open-browser.ts): the token in the URL never
 * reaches a command line (which every user of the machine can read); the opener gets a private
 * page that forwards to the URL, and that page is removed afterwards.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasDisplay, openerFor, openInBrowser, redirectPage } from '../../main/cli/open-browser';
import { makeTempDir, removeDir } from '../fixtures/temp';

const TOKEN = 'a1'.repeat(32);
const URL_WITH_TOKEN = `http://127.0.0.1:4321/?token=${TOKEN}`;
const DISPLAY_ENV = { DISPLAY: ':0' };

let dir: string;
beforeEach(() => {
  dir = makeTempDir('open-browser');
});
afterEach(() => removeDir(dir));

/** A spawn that records its command and pretends the opener started (or failed to). */
function fakeSpawn(outcome: 'spawn' | 'error' = 'spawn') {
  const calls: { command: string; args: string[]; options: SpawnOptions }[] = [];
  const start = (command: string, args: string[], options: SpawnOptions) => {
    calls.push({ command, args, options });
    const child = Object.assign(new EventEmitter(), { unref: () => undefined });
    setImmediate(() => (outcome === 'spawn' ? child.emit('spawn') : child.emit('error', new Error('spawn xdg-open ENOENT'))));
    return child as unknown as ChildProcess;
  };
  return { calls, start };
}

const waitFor = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
  return check();
};

describe('openInBrowser', () => {
  it('gives the opener a private page, never the URL with its token', async () => {
    const { calls, start } = fakeSpawn();
    const outcome = await openInBrowser(URL_WITH_TOKEN, { platform: 'linux', env: DISPLAY_ENV, spawn: start, tempDir: dir, removeAfterMs: 60_000 });
    expect(outcome).toEqual({ opened: true });
    expect(calls).toHaveLength(1);
    const [{ command, args }] = calls;
    expect(command).toBe('xdg-open');
    expect(args.join(' ')).not.toContain(TOKEN);
    const page = args[0];
    expect(path.dirname(path.dirname(page))).toBe(dir);
    expect(fs.statSync(page).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(page)).mode & 0o777).toBe(0o700);
    const html = fs.readFileSync(page, 'utf8');
    expect(html).toContain(`<meta http-equiv="refresh" content="0;url=${URL_WITH_TOKEN}">`);
    expect(html).toContain(`location.replace(${JSON.stringify(URL_WITH_TOKEN)})`);
  });

  it('removes the page once the browser has had time to read it', async () => {
    const { calls, start } = fakeSpawn();
    await openInBrowser(URL_WITH_TOKEN, { platform: 'linux', env: DISPLAY_ENV, spawn: start, tempDir: dir, removeAfterMs: 50 });
    const page = calls[0].args[0];
    expect(await waitFor(() => !fs.existsSync(path.dirname(page)))).toBe(true);
  });

  it('removes the page at once when the opener cannot start, and says why', async () => {
    const { calls, start } = fakeSpawn('error');
    const outcome = await openInBrowser(URL_WITH_TOKEN, { platform: 'linux', env: DISPLAY_ENV, spawn: start, tempDir: dir });
    expect(outcome).toEqual({ opened: false, reason: 'xdg-open failed: spawn xdg-open ENOENT' });
    expect(fs.existsSync(path.dirname(calls[0].args[0]))).toBe(false);
  });

  it('does not try without a display, and writes nothing', async () => {
    const { calls, start } = fakeSpawn();
    const outcome = await openInBrowser(URL_WITH_TOKEN, { platform: 'linux', env: {}, spawn: start, tempDir: dir });
    expect(outcome).toEqual({ opened: false, reason: 'there is no display (DISPLAY / WAYLAND_DISPLAY are not set)' });
    expect(calls).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('opens only http(s) addresses', async () => {
    const { calls, start } = fakeSpawn();
    expect((await openInBrowser('file:///etc/passwd', { platform: 'linux', env: DISPLAY_ENV, spawn: start, tempDir: dir })).opened).toBe(false);
    expect((await openInBrowser('not a url', { platform: 'linux', env: DISPLAY_ENV, spawn: start, tempDir: dir })).opened).toBe(false);
    expect(calls).toEqual([]);
  });

  it.skipIf(process.platform === 'win32')('with a real opener process: its command line, as ps shows it, has no token; the page it reads forwards to the URL', async () => {
    // a stand-in xdg-open that records its own command line (from /proc where there is one) and the page it was given
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const record = path.join(dir, 'record.txt');
    fs.writeFileSync(
      path.join(bin, 'xdg-open'),
      `#!/bin/sh\n{ if [ -r /proc/$$/cmdline ]; then tr '\\0' ' ' < /proc/$$/cmdline; else echo "$0 $*"; fi; echo; cat "$1"; } > "${record}"\n`,
      { mode: 0o755 },
    );
    const realSpawn = (command: string, args: string[], options: SpawnOptions) =>
      spawn(command, args, { ...options, env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` } });
    const outcome = await openInBrowser(URL_WITH_TOKEN, { platform: 'linux', env: DISPLAY_ENV, spawn: realSpawn, tempDir: dir, removeAfterMs: 60_000 });
    expect(outcome).toEqual({ opened: true });
    expect(await waitFor(() => fs.existsSync(record) && fs.readFileSync(record, 'utf8').includes('</html>'), 10_000)).toBe(true);
    const [commandLine, ...pageLines] = fs.readFileSync(record, 'utf8').split('\n');
    expect(commandLine).toContain('open.html');
    expect(commandLine).not.toContain(TOKEN);
    expect(pageLines.join('\n')).toContain(URL_WITH_TOKEN);
  });
});

describe('the pieces', () => {
  it('each platform opener gets the file as its one argument', () => {
    expect(openerFor('/tmp/x/open.html', 'linux')).toEqual(['xdg-open', ['/tmp/x/open.html']]);
    expect(openerFor('/tmp/x/open.html', 'darwin')).toEqual(['open', ['/tmp/x/open.html']]);
    expect(openerFor('C:\\Temp\\x\\open.html', 'win32')).toEqual(['cmd', ['/c', 'start', '""', 'C:\\Temp\\x\\open.html']]);
  });

  it('the page escapes what it embeds', () => {
    const html = redirectPage('http://127.0.0.1:1/?a="><script>alert(1)</script>&b=1');
    expect(html).not.toContain('"><script>alert');
    expect(html).toContain('&quot;&gt;&lt;script&gt;');
    expect(html.match(/<\/script>/g)).toHaveLength(1);
  });

  it('a display is needed on Linux, not on macOS or Windows', () => {
    expect(hasDisplay({}, 'linux')).toBe(false);
    expect(hasDisplay({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toBe(true);
    expect(hasDisplay({}, 'darwin')).toBe(true);
    expect(hasDisplay({}, 'win32')).toBe(true);
  });
});
