/**
 * The full image is only decoded when the file still is what its import recorded: a JPEG replaced
 * by an SVG (or by another format) since the import is refused in words naming the image, through
 * the service and the HTTP door alike, and SVG content is never decoded, not even for a row the
 * import rejected. Thumbnails are the project's own WebP bytes and keep working.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { renderFullImage } from '../../main/dataset/media';
import { startServer, type RunningServer } from '../../main/server/server';
import { Service } from '../../main/service/service';
import { makeTempDir, removeDir } from '../fixtures/temp';

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>';

let dir: string;
let service: Service;
let server: RunningServer;
let project: string;
let ids: Record<string, number>;

beforeAll(async () => {
  dir = makeTempDir('media-format');
  const images = path.join(dir, 'images');
  fs.mkdirSync(images);
  for (const [name, shade] of [['kept', 10], ['svg-now', 80], ['png-now', 160]] as const) {
    await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: shade, g: 20, b: 200 } } }).jpeg().toFile(path.join(images, `${name}.jpg`));
  }
  fs.writeFileSync(path.join(images, 'vector.png'), SVG); // an SVG under an image name: rejected at import
  service = new Service({ mode: 'browser', dataDir: path.join(dir, 'home') });
  project = path.join(dir, 'p.effitune');
  await service.call('project.create', { path: project });
  await service.call('import.folder', { project, folder: images, labelsFromFolders: false, jobId: 'media' });
  const rows = service.projects.get(project).db.prepare('SELECT id, path, status, format FROM images').all() as { id: number; path: string; status: string; format: string | null }[];
  ids = Object.fromEntries(rows.map((r) => [path.basename(r.path, path.extname(r.path)), r.id]));
  expect(rows.find((r) => r.id === ids.vector)).toMatchObject({ status: 'rejected', format: null });
  expect(rows.find((r) => r.id === ids['svg-now'])).toMatchObject({ status: 'ok', format: 'jpeg' });

  // the files change behind the project's back
  fs.writeFileSync(path.join(images, 'svg-now.jpg'), SVG);
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#00ff00' } }).png().toFile(path.join(images, 'png-now.jpg'));
  server = await startServer({ service, staticDir: path.join(dir, 'no-ui') });
});

afterAll(async () => {
  await server?.close();
  service?.close();
  removeDir(dir);
});

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('full images are checked against the import', () => {
  it('serves an unchanged image', async () => {
    const image = await service.fullImage(project, ids.kept);
    expect(image.contentType).toBe('image/jpeg');
    expect(await sharp(image.data).metadata()).toMatchObject({ width: 40, height: 30 });
  });

  it('refuses a JPEG replaced by an SVG or a PNG since the import, naming the image and the file', async () => {
    const svg = await refusal(service.fullImage(project, ids['svg-now']));
    expect(svg.code).toBe('not_found');
    expect(svg.message).toBe(
      `image ${ids['svg-now']} (${path.join(dir, 'images', 'svg-now.jpg')}) has changed since the import: it was imported as JPEG and the file is now SVG vector graphics; import its folder again`,
    );
    const png = await refusal(service.fullImage(project, ids['png-now']));
    expect(png.code).toBe('not_found');
    expect(png.message).toMatch(/has changed since the import: it was imported as JPEG and the file is now PNG/);
  });

  it('never decodes SVG, also for a rejected row or a file shown without an import', async () => {
    const rejected = await refusal(service.fullImage(project, ids.vector));
    expect(rejected.code).toBe('invalid_input');
    expect(rejected.message).toMatch(new RegExp(`^cannot show image ${ids.vector} \\(.*vector\\.png\\): the content is SVG vector graphics; only JPEG, PNG`));
    const bare = await refusal(renderFullImage(path.join(dir, 'images', 'svg-now.jpg')));
    expect(bare.code).toBe('invalid_input');
    expect(bare.message).toMatch(/svg-now\.jpg: the content is SVG vector graphics/);
  });

  it('the HTTP door answers 404 and 400 with the reason, and thumbnails still come from the project', async () => {
    const url = (kind: string, id: number) => `http://127.0.0.1:${server.port}/media/${kind}?project=${encodeURIComponent(project)}&id=${id}&token=${server.token}`;
    const changed = await fetch(url('full', ids['svg-now']));
    expect(changed.status).toBe(404);
    expect((await changed.json()).error).toMatchObject({ code: 'not_found', message: expect.stringContaining('has changed since the import') });
    const vector = await fetch(url('full', ids.vector));
    expect(vector.status).toBe(400);
    expect(vector.headers.get('content-type')).toMatch(/^application\/json/);
    const thumb = await fetch(url('thumb', ids['svg-now']));
    expect(thumb.status).toBe(200);
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).format).toBe('webp');
  });
});
