/**
 * File and folder names the import cannot take as they are: names whose bytes are not UTF-8 (made
 * here with Buffer paths, which Linux file systems allow) are reported with the reason and the
 * rename to do, not as files that "vanished"; a top-level folder whose name cannot be a class
 * (a text-direction override) gives its images no label, and says so.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importFolder } from '../../main/dataset/import-folder';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
let registry: ProjectRegistry;
let handle: ProjectHandle;

beforeEach(() => {
  dir = makeTempDir('import-names');
  registry = new ProjectRegistry(path.join(dir, 'home'));
  const file = path.join(dir, 'p.effitune');
  registry.create(file);
  handle = registry.get(file);
});
afterEach(() => {
  registry.closeAll();
  removeDir(dir);
});

const jpeg = (shade: number) => sharp({ create: { width: 16, height: 12, channels: 3, background: { r: shade, g: 40, b: 90 } } }).jpeg().toBuffer();

/** A path under `folder` whose last part is these raw bytes. */
const rawPath = (folder: string, ...bytes: (string | number[])[]) =>
  Buffer.concat([Buffer.from(folder + path.sep), ...bytes.map((b) => (typeof b === 'string' ? Buffer.from(b) : Buffer.from(b)))]);

function rows(): { path: string; status: string; class_name: string | null }[] {
  return handle.db.prepare('SELECT i.path, i.status, c.name AS class_name FROM images i LEFT JOIN classes c ON c.id = i.class_id ORDER BY i.path').all() as never;
}

describe('import of awkward file names', () => {
  it('reports a file or folder whose name is not UTF-8 as such, and imports the rest', async () => {
    const root = path.join(dir, 'images');
    fs.mkdirSync(path.join(root, 'cats'), { recursive: true });
    fs.writeFileSync(path.join(root, 'cats', 'fine.jpg'), await jpeg(10));
    fs.writeFileSync(rawPath(path.join(root, 'cats'), 'caf', [0xe9], '.jpg'), await jpeg(20)); // Latin-1 "café.jpg"
    fs.writeFileSync(rawPath(path.join(root, 'cats'), [0xff, 0xfe], 'x.JPG'), await jpeg(30));
    fs.writeFileSync(rawPath(path.join(root, 'cats'), [0xff], 'notes.txt'), 'not an image');
    const badFolder = rawPath(root, 'd', [0xf6], 'gs');
    fs.mkdirSync(badFolder);
    fs.writeFileSync(Buffer.concat([badFolder, Buffer.from('/inside.jpg')]), await jpeg(40));

    const result = await importFolder(handle, { folder: root, labelsFromFolders: true, jobId: 'names' });
    expect(result.imported).toBe(1);
    expect(rows()).toEqual([{ path: path.join(root, 'cats', 'fine.jpg'), status: 'ok', class_name: 'cats' }]);
    const reasons = result.rejections.map((r) => [path.relative(root, r.path), r.reason]);
    expect(reasons).toEqual([
      ['d\uFFFDgs', expect.stringMatching(/^the folder name is not valid UTF-8 text, so nothing in it can be opened by name; rename it/)],
      ['cats/caf\uFFFD.jpg', expect.stringMatching(/^the file name is not valid UTF-8 text, .*rename it/)],
      ['cats/\uFFFD\uFFFDx.JPG', expect.stringMatching(/^the file name is not valid UTF-8 text/)],
    ]);
    expect(result.rejections.some((r) => /vanished/.test(r.reason))).toBe(false);
    // nothing stored under a name that opens nothing: the next import reports the same, once the user renames it imports
    fs.renameSync(rawPath(path.join(root, 'cats'), 'caf', [0xe9], '.jpg'), path.join(root, 'cats', 'café.jpg'));
    const again = await importFolder(handle, { folder: root, labelsFromFolders: true, jobId: 'names-2' });
    expect(again.imported).toBe(1);
    expect(again.rejections).toHaveLength(2);
    expect(rows().map((r) => path.basename(r.path))).toEqual(['café.jpg', 'fine.jpg']);
  });

  it('does not make a class of a folder name with a text-direction override; its images come in unlabeled', async () => {
    const root = path.join(dir, 'labels');
    const evil = 'invoice\u202Egpj.exe';
    fs.mkdirSync(path.join(root, evil), { recursive: true });
    fs.mkdirSync(path.join(root, 'dogs'), { recursive: true });
    fs.writeFileSync(path.join(root, evil, 'a.jpg'), await jpeg(50));
    fs.writeFileSync(path.join(root, 'dogs', 'b.jpg'), await jpeg(60));

    const result = await importFolder(handle, { folder: root, labelsFromFolders: true, jobId: 'bidi' });
    expect(result.imported).toBe(2);
    expect(result.classes.map((c) => c.name)).toEqual(['dogs']);
    expect(rows().map((r) => [path.basename(r.path), r.class_name])).toEqual([
      ['b.jpg', 'dogs'],
      ['a.jpg', null],
    ]);
    expect(result.rejections).toEqual([
      {
        path: path.join(root, evil),
        reason: expect.stringMatching(/^the folder name is not used as a class, so its images are imported unlabeled: class name "invoice<U\+202E>gpj\.exe" must not contain invisible/),
      },
    ]);
  });
});
