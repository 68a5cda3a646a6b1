/**
 * Which pages the desktop window trusts, and the guards every web contents gets. Kept free of
 * Electron imports (the few Electron objects it touches are described by the small interfaces
 * below) so the rules are tested under plain Node (test/unit/electron-page-guards.test.ts).
 *
 * The one trusted page is the built renderer on our own scheme (effitune-app://app/...). In
 * development, and only there, the renderer may come from electron-vite's dev server
 * (ELECTRON_RENDERER_URL): in a packaged app that variable would let anyone who can set the
 * environment point the window, and with it the whole service over IPC, at a page of their choice.
 */

export const APP_SCHEME = 'effitune-app';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_START_URL = `${APP_ORIGIN}/index.html`;

/** Permissions our own page needs: copying an export's path ("Copy path"). Everything else is refused. */
const PAGE_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface DevServer {
  /** The origin of the dev server (http://localhost:5173), or null: load the built renderer. */
  origin: string | null;
  /** Why ELECTRON_RENDERER_URL was not used, in words (null when it was used or not set). */
  ignored: string | null;
}

/**
 * The dev server the window may load: ELECTRON_RENDERER_URL, honoured only in an unpackaged app
 * and only when it is http(s) on a loopback host.
 */
export function devServerFrom(options: { isPackaged: boolean; rendererUrl: string | undefined }): DevServer {
  const raw = options.rendererUrl?.trim();
  if (!raw) return { origin: null, ignored: null };
  if (options.isPackaged) return { origin: null, ignored: 'ELECTRON_RENDERER_URL is ignored: a packaged app loads only its own built pages' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { origin: null, ignored: `ELECTRON_RENDERER_URL is ignored: "${raw}" is not a URL` };
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !LOOPBACK_HOSTS.has(url.hostname) || url.username || url.password) {
    return { origin: null, ignored: `ELECTRON_RENDERER_URL is ignored: "${raw}" is not an http(s) address on this machine (localhost, 127.0.0.1 or [::1])` };
  }
  return { origin: url.origin, ignored: null };
}

/** The URL the window opens first. */
export function startUrl(dev: DevServer): string {
  return dev.origin ? `${dev.origin}/` : APP_START_URL;
}

/**
 * True only for a page of ours: effitune-app://app/<anything>, or a page of the dev server's exact
 * origin (scheme, host and port) in development. Compared parsed, never by string prefix:
 * "http://localhost:5173.evil.example" starts with "http://localhost:5173".
 */
export function isOwnPage(url: string | null | undefined, devOrigin: string | null): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // URL.origin is "null" for non-special schemes such as ours, so scheme and host are compared.
  if (parsed.protocol === `${APP_SCHEME}:`) return parsed.host === APP_HOST && !parsed.username && !parsed.password;
  return devOrigin !== null && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === devOrigin;
}

/** What an IPC call says about where it came from (Electron's IpcMainInvokeEvent, reduced). */
export interface IpcSender {
  /** The URL of the frame that sent the call (event.senderFrame?.url). */
  frameUrl: string | null | undefined;
  /** The frame is its page's top frame (event.senderFrame.parent === null). */
  isMainFrame: boolean;
  /** The web contents is our main window's (event.sender === mainWindow.webContents). */
  fromOurWindow: boolean;
}

/** Only the top frame of our own window, showing our own page, may call the service. */
export function isTrustedSender(sender: IpcSender, devOrigin: string | null): boolean {
  return sender.fromOurWindow && sender.isMainFrame && isOwnPage(sender.frameUrl, devOrigin);
}

/** Permission requests and checks: granted only to our own page, and only what it needs. */
export function permissionAllowed(permission: string, requestingUrl: string | null | undefined, devOrigin: string | null): boolean {
  return PAGE_PERMISSIONS.has(permission) && isOwnPage(requestingUrl, devOrigin);
}

/** A link the window asked to open (window.open, target=_blank): only https goes to the user's browser. */
export function externalLink(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && !parsed.username && !parsed.password ? parsed.href : null;
  } catch {
    return null;
  }
}

/** The parts of Electron's WebContents the guards use. */
export interface GuardedContents {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: { url?: string; preventDefault(): void }, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
}

/**
 * Every web contents of the app (the window, and any that might appear later) stays on our own
 * pages: navigations and redirects elsewhere are cancelled, no <webview> is attached, and no new
 * window opens; an https link goes to the user's browser instead.
 */
export function guardWebContents(contents: GuardedContents, devOrigin: string | null, openExternal: (url: string) => void): void {
  const stayHome = (event: { preventDefault(): void }, url: string) => {
    if (!isOwnPage(url, devOrigin)) event.preventDefault();
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const link = externalLink(url);
    if (link) openExternal(link);
    return { action: 'deny' };
  });
}
