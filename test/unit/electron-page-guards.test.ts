/**
 * The desktop window's trust rules (electron/page-guards.ts), under plain Node: which page may
 * call the service over IPC, when the dev server's URL is honoured, which permissions a page gets,
 * and the navigation, redirect, webview and new-window guards every web contents receives.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  APP_START_URL,
  devServerFrom,
  externalLink,
  guardWebContents,
  isOwnPage,
  isTrustedSender,
  permissionAllowed,
  startUrl,
  type GuardedContents,
} from '../../electron/page-guards';

describe('the dev server (ELECTRON_RENDERER_URL)', () => {
  it('is ignored in a packaged app, whatever it names', () => {
    const dev = devServerFrom({ isPackaged: true, rendererUrl: 'http://localhost:5173' });
    expect(dev.origin).toBeNull();
    expect(dev.ignored).toMatch(/packaged app loads only its own built pages/);
    expect(startUrl(dev)).toBe('effitune-app://app/index.html');
  });

  it('is honoured in development on a loopback http(s) address, as its exact origin', () => {
    const dev = devServerFrom({ isPackaged: false, rendererUrl: 'http://localhost:5173/some/path?x=1' });
    expect(dev).toEqual({ origin: 'http://localhost:5173', ignored: null });
    expect(startUrl(dev)).toBe('http://localhost:5173/');
    expect(devServerFrom({ isPackaged: false, rendererUrl: 'https://127.0.0.1:8443' }).origin).toBe('https://127.0.0.1:8443');
    expect(devServerFrom({ isPackaged: false, rendererUrl: 'http://[::1]:5173/' }).origin).toBe('http://[::1]:5173');
  });

  it('is refused in development when it is not a loopback http(s) page', () => {
    for (const url of ['https://evil.example/', 'http://localhost.evil.example:5173', 'file:///tmp/page.html', 'javascript:alert(1)', 'not a url', 'http://user:pw@localhost:5173']) {
      const dev = devServerFrom({ isPackaged: false, rendererUrl: url });
      expect(dev.origin, url).toBeNull();
      expect(dev.ignored, url).toMatch(/ELECTRON_RENDERER_URL is ignored/);
    }
  });

  it('unset means the built renderer, with nothing to report', () => {
    expect(devServerFrom({ isPackaged: false, rendererUrl: undefined })).toEqual({ origin: null, ignored: null });
    expect(devServerFrom({ isPackaged: true, rendererUrl: '' })).toEqual({ origin: null, ignored: null });
    expect(startUrl({ origin: null, ignored: null })).toBe(APP_START_URL);
  });
});

describe('own pages', () => {
  it('are the app scheme on its one host', () => {
    expect(isOwnPage('effitune-app://app/index.html', null)).toBe(true);
    expect(isOwnPage('effitune-app://app/', null)).toBe(true);
    expect(isOwnPage('effitune-app://other/index.html', null)).toBe(false);
    expect(isOwnPage('effitune-app://user@app/index.html', null)).toBe(false);
    expect(isOwnPage('effitune-media://thumb/1?project=x', null)).toBe(false);
    expect(isOwnPage('file:///work/out/renderer/index.html', null)).toBe(false);
    expect(isOwnPage('', null)).toBe(false);
    expect(isOwnPage(undefined, null)).toBe(false);
    expect(isOwnPage('::not a url', null)).toBe(false);
  });

  it('include the dev server only by exact origin, never by prefix', () => {
    const dev = 'http://localhost:5173';
    expect(isOwnPage('http://localhost:5173/', dev)).toBe(true);
    expect(isOwnPage('http://localhost:5173/#/project', dev)).toBe(true);
    expect(isOwnPage('http://localhost:51739/', dev)).toBe(false);
    expect(isOwnPage('http://localhost:5173.evil.example/', dev)).toBe(false);
    expect(isOwnPage('https://localhost:5173/', dev)).toBe(false);
    expect(isOwnPage('http://127.0.0.1:5173/', dev)).toBe(false);
    expect(isOwnPage('http://localhost:5173/', null)).toBe(false);
  });
});

describe('IPC senders', () => {
  const own = { frameUrl: 'effitune-app://app/index.html', isMainFrame: true, fromOurWindow: true };
  it('are trusted only from the top frame of our window showing our page', () => {
    expect(isTrustedSender(own, null)).toBe(true);
    expect(isTrustedSender({ ...own, isMainFrame: false }, null)).toBe(false);
    expect(isTrustedSender({ ...own, fromOurWindow: false }, null)).toBe(false);
    expect(isTrustedSender({ ...own, frameUrl: 'https://evil.example/' }, null)).toBe(false);
    expect(isTrustedSender({ ...own, frameUrl: null }, null)).toBe(false);
    expect(isTrustedSender({ ...own, frameUrl: 'http://localhost:5173/' }, null)).toBe(false);
    expect(isTrustedSender({ ...own, frameUrl: 'http://localhost:5173/' }, 'http://localhost:5173')).toBe(true);
  });
});

describe('permissions', () => {
  it('only the clipboard write of our own page is granted', () => {
    expect(permissionAllowed('clipboard-sanitized-write', 'effitune-app://app/index.html', null)).toBe(true);
    expect(permissionAllowed('clipboard-sanitized-write', 'https://evil.example/', null)).toBe(false);
    expect(permissionAllowed('clipboard-sanitized-write', undefined, null)).toBe(false);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'display-capture', 'fileSystem', 'unknown']) {
      expect(permissionAllowed(permission, 'effitune-app://app/index.html', null), permission).toBe(false);
    }
  });
});

describe('links and web contents', () => {
  it('only https links leave the app, to the user browser', () => {
    expect(externalLink('https://github.com/x/y')).toBe('https://github.com/x/y');
    for (const url of ['http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'effitune-app://app/', 'smb://host/share', 'https://u:p@example.com/', 'nonsense']) {
      expect(externalLink(url), url).toBeNull();
    }
  });

  /** A web contents that records its listeners and window-open handler. */
  function fakeContents() {
    const listeners = new Map<string, (event: { preventDefault(): void }, url: string) => void>();
    let openHandler: ((details: { url: string }) => { action: string }) | undefined;
    const contents: GuardedContents = {
      on: ((name: string, listener: (event: { preventDefault(): void }, url: string) => void) => listeners.set(name, listener)) as GuardedContents['on'],
      setWindowOpenHandler: (handler) => {
        openHandler = handler;
      },
    };
    const fire = (name: string, url = '') => {
      const event = { preventDefault: vi.fn() };
      listeners.get(name)?.(event, url);
      return event.preventDefault.mock.calls.length > 0;
    };
    return { contents, listeners, fire, open: (url: string) => openHandler?.({ url }) };
  }

  it('navigations and redirects off our pages are cancelled, webviews refused, new windows denied', () => {
    const { contents, listeners, fire, open } = fakeContents();
    const openExternal = vi.fn();
    guardWebContents(contents, null, openExternal);
    expect([...listeners.keys()].sort()).toEqual(['will-attach-webview', 'will-navigate', 'will-redirect']);

    expect(fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(fire('will-navigate', 'http://localhost:5173/')).toBe(true);
    expect(fire('will-navigate', 'effitune-app://app/index.html')).toBe(false);
    expect(fire('will-redirect', 'https://evil.example/')).toBe(true);
    expect(fire('will-redirect', 'effitune-app://app/index.html')).toBe(false);
    expect(fire('will-attach-webview')).toBe(true);

    expect(open('https://github.com/')).toEqual({ action: 'deny' });
    expect(open('http://example.com/')).toEqual({ action: 'deny' });
    expect(open('effitune-app://app/index.html')).toEqual({ action: 'deny' });
    expect(openExternal.mock.calls).toEqual([['https://github.com/']]);
  });

  it('in development the dev server origin is a page of ours', () => {
    const { contents, fire } = fakeContents();
    guardWebContents(contents, 'http://localhost:5173', () => undefined);
    expect(fire('will-navigate', 'http://localhost:5173/#/x')).toBe(false);
    expect(fire('will-navigate', 'http://localhost:5174/')).toBe(true);
  });
});
