/**
 * Two custom schemes serve the window, so nothing is loaded from file:// and every response can
 * carry the Content-Security-Policy header:
 *   effitune-app://app/<file>                        the built renderer (out/renderer)
 *   effitune-media://thumb/<id>?project=<path>       a thumbnail (WebP); /full/<id> the full image
 */
import { protocol } from 'electron';
import fs from 'node:fs/promises';
import { toErrorShape } from '../main/contract/contract';
import type { DoorService } from '../main/service/door-service';
import { contentTypeOf, resolveStaticPath } from '../main/service/static-files';
import { APP_SCHEME } from './page-guards';

export const ELECTRON_CSP = [
  "default-src 'self'",
  "img-src 'self' data: blob: effitune-media:",
  "connect-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** Must run before the app is ready: the schemes need their privileges at startup. */
export function registerSchemes(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
    { scheme: 'effitune-media', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
  ]);
}

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}

export function handleAppProtocol(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const { pathname } = new URL(request.url);
    const file = resolveStaticPath(rendererDir, pathname === '/' ? '/index.html' : pathname);
    if (file === null) return textResponse(400, 'bad path');
    try {
      const data = await fs.readFile(file);
      return new Response(new Uint8Array(data), { headers: { 'Content-Type': contentTypeOf(file), 'Content-Security-Policy': ELECTRON_CSP } });
    } catch {
      return textResponse(404, `not found: ${pathname}`);
    }
  });
}

export function handleMediaProtocol(service: DoorService): void {
  protocol.handle('effitune-media', async (request) => {
    const url = new URL(request.url);
    const kind = url.hostname;
    const idText = url.pathname.replace(/^\//, '');
    const project = url.searchParams.get('project');
    if (!project || !/^\d+$/.test(idText)) return textResponse(400, 'media URLs look like effitune-media://thumb/<id>?project=<path>');
    const id = Number(idText);
    try {
      if (kind === 'thumb') {
        const data = service.thumbnail(project, id);
        if (!data) return textResponse(404, `image ${id} has no thumbnail`);
        return new Response(new Uint8Array(data), { headers: { 'Content-Type': 'image/webp' } });
      }
      if (kind === 'full') {
        const image = await service.fullImage(project, id);
        return new Response(new Uint8Array(image.data), { headers: { 'Content-Type': image.contentType } });
      }
      return textResponse(404, `no media kind "${kind}" (use thumb or full)`);
    } catch (err) {
      const error = toErrorShape(err);
      // a file changed since its import is not_found, content we never decode (SVG, ...) invalid_input
      return textResponse(error.code === 'not_found' ? 404 : error.code === 'invalid_input' ? 400 : 500, error.message);
    }
  });
}
