/**
 * Opens a URL in the user's browser with the platform's own opener. Where there is no display
 * (a server, CI, SSH without X forwarding) it does not try and says why.
 */
import { spawn } from 'node:child_process';

export interface OpenOutcome {
  opened: boolean;
  /** Why the browser was not opened, in words. */
  reason?: string;
}

export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform = process.platform): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

function openerFor(url: string, platform: NodeJS.Platform): [string, string[]] {
  if (platform === 'darwin') return ['open', [url]];
  // `start` is a cmd built-in; the empty string is the window title it would otherwise take from the URL.
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""', url]];
  return ['xdg-open', [url]];
}

export function openInBrowser(url: string): Promise<OpenOutcome> {
  if (!hasDisplay()) return Promise.resolve({ opened: false, reason: 'there is no display (DISPLAY / WAYLAND_DISPLAY are not set)' });
  const [command, args] = openerFor(url, process.platform);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.once('error', (err) => resolve({ opened: false, reason: `${command} failed: ${err.message}` }));
    child.once('spawn', () => {
      child.unref();
      resolve({ opened: true });
    });
  });
}
