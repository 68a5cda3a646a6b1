/**
 * Opens a URL in the user's browser with the platform's own opener. Where there is no display
 * (a server, CI, SSH without X forwarding) it does not try and says why.
 *
 * The URL of browser mode carries its token, and a command line is readable by every user of the
 * machine (`ps`, /proc/PID/cmdline), while the opener and the browser it starts keep theirs for
 * as long as they run. So the opener is never given the URL: it gets a small page, in a folder of
 * its own that only this user can read, that sends the browser on to the URL (as Jupyter does).
 * The page is removed once the browser has had time to read it, and when this process exits.
 * A browser that cannot read the temp folder (a snap-confined one, WSL opening a Windows browser)
 * shows an error instead; the URL printed in the terminal still works there.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface OpenOutcome {
  opened: boolean;
  /** Why the browser was not opened, in words. */
  reason?: string;
}

export interface OpenOptions {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  /** Starts the opener (tests record it); default child_process.spawn. */
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
  /** Folder the page's private folder is made in; default the OS temp folder. */
  tempDir?: string;
  /** How long the browser has to read the page before it is removed (default two minutes). */
  removeAfterMs?: number;
}

const REMOVE_AFTER_MS = 120_000;

export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform = process.platform): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** The opener's command for a local file (never a URL with a secret in it). */
export function openerFor(file: string, platform: NodeJS.Platform): [string, string[]] {
  if (platform === 'darwin') return ['open', [file]];
  // `start` is a cmd built-in; the empty string is the window title it would otherwise take from the path.
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""', file]];
  return ['xdg-open', [file]];
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The page that sends the browser on to `url`: a script (which keeps this page out of the history), a meta refresh, and a link. */
export function redirectPage(url: string): string {
  const href = escapeHtml(url);
  // JSON, with < escaped so no "</script>" can end the script early
  const target = JSON.stringify(url).replace(/</g, '\\u003c');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="referrer" content="no-referrer">',
    `<meta http-equiv="refresh" content="0;url=${href}">`,
    '<title>Opening Effitune</title>',
    `<script>location.replace(${target});</script>`,
    '</head><body>',
    `<p>Opening Effitune... If nothing happens, <a href="${href}">open it here</a>.</p>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** A page that forwards to `url`, readable by this user only: a fresh 0700 folder holding one 0600 file. */
export function writeRedirectPage(url: string, tempDir = os.tmpdir()): { file: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(tempDir, 'effitune-open-'));
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, 'open.html');
  fs.writeFileSync(file, redirectPage(url), { mode: 0o600, flag: 'wx' });
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function openInBrowser(url: string, options: OpenOptions = {}): Promise<OpenOutcome> {
  const platform = options.platform ?? process.platform;
  if (!hasDisplay(options.env ?? process.env, platform)) {
    return Promise.resolve({ opened: false, reason: 'there is no display (DISPLAY / WAYLAND_DISPLAY are not set)' });
  }
  const protocol = URL.canParse(url) ? new URL(url).protocol : '';
  if (protocol !== 'http:' && protocol !== 'https:') return Promise.resolve({ opened: false, reason: `${url} is not an http(s) address` });
  let page: { file: string; remove: () => void };
  try {
    page = writeRedirectPage(url, options.tempDir);
  } catch (err) {
    return Promise.resolve({ opened: false, reason: `could not write the page that opens it: ${(err as Error).message}` });
  }
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    process.off('exit', remove);
    page.remove();
  };
  process.once('exit', remove);
  const [command, args] = openerFor(page.file, platform);
  const start = options.spawn ?? spawn;
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = start(command, args, { stdio: 'ignore', detached: true, windowsHide: true });
    } catch (err) {
      remove();
      return resolve({ opened: false, reason: `${command} failed: ${(err as Error).message}` });
    }
    child.once('error', (err) => {
      remove();
      resolve({ opened: false, reason: `${command} failed: ${err.message}` });
    });
    child.once('spawn', () => {
      child.unref();
      setTimeout(remove, options.removeAfterMs ?? REMOVE_AFTER_MS).unref();
      resolve({ opened: true });
    });
  });
}
