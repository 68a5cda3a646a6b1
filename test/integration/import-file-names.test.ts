/**
 * File and folder names the import takes as bytes: names that are not UTF-8 (made here with Buffer
 * paths, which Linux file systems allow) are imported, opened by their bytes and named by their
 * escaped text form (caf\xE9.jpg), never as files that "vanished"; an escaped name that reads as a
 * real file's name beside it is reported instead. A top-level folder whose name cannot be a class
 * (a text-direction override, or bytes that are not UTF-8) gives its images no label, and says so.
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
  it('imports files and folders whose names are not UTF-8 by their bytes, named by their escaped text form', async () => {
    const root = path.join(dir, 'images');
    fs.mkdirSync(path.join(root, 'cats'), { recursive: true });
    fs.writeFileSync(path.join(root, 'cats', 'fine.jpg'), await jpeg(10));
    const latin1 = rawPath(path.join(root, 'cats'), 'caf', [0xe9], '.jpg'); // Latin-1 "café.jpg"
    fs.writeFileSync(latin1, await jpeg(20));
    fs.writeFileSync(rawPath(path.join(root, 'cats'), [0xff, 0xfe], 'x.JPG'), await jpeg(30));
    fs.writeFileSync(rawPath(path.join(root, 'cats'), [0xff], 'notes.txt'), 'not an image');
    const badFolder = rawPath(root, 'd', [0xf6], 'gs');
    fs.mkdirSync(badFolder);
    fs.writeFileSync(Buffer.concat([badFolder, Buffer.from('/inside.jpg')]), await jpeg(40));

    const result = await importFolder(handle, { folder: root, labelsFromFolders: true, jobId: 'names' });
    expect(result.imported).toBe(4);
    expect(rows()).toEqual([
      { path: path.join(root, 'cats', '\\xFF\\xFEx.JPG'), status: 'ok', class_name: 'cats' },
      { path: path.join(root, 'cats', 'caf\\xE9.jpg'), status: 'ok', class_name: 'cats' },
      { path: path.join(root, 'cats', 'fine.jpg'), status: 'ok', class_name: 'cats' },
      { path: path.join(root, 'd\\xF6gs', 'inside.jpg'), status: 'ok', class_name: null },
    ]);
    // the exact bytes beside the text, and only where the text does not open the file
    const bytes = handle.db.prepare('SELECT path, path_bytes FROM images ORDER BY path').all() as { path: string; path_bytes: Buffer | null }[];
    expect(bytes[1].path_bytes).toEqual(latin1);
    expect(bytes[2].path_bytes).toBeNull();
    expect(bytes[3].path_bytes).toEqual(Buffer.concat([badFolder, Buffer.from('/inside.jpg')]));
    expect(result.rejections).toEqual([{ path: path.join(root, 'd\\xF6gs'), reason: expect.stringMatching(/^the folder name is not used as a class, so its images are imported unlabeled: the name is not valid UTF-8 text/) }]);

    // the same files again: recognised by their text and bytes, nothing new, nothing duplicated
    const again = await importFolder(handle, { folder: root, labelsFromFolders: true, jobId: 'names-2' });
    expect(again).toMatchObject({ imported: 0, unchanged: 4, duplicate: 0, missing: 0 });
    expect(rows()).toHaveLength(4);

    // gone from disk: missing, like any file
    fs.unlinkSync(latin1);
    const third = await importFolder(handle, { folder: root, labelsFromFolders: true, jobId: 'names-3' });
    expect(third.missing).toBe(1);
    expect(handle.db.prepare('SELECT missing FROM images WHERE path = ?').pluck().get(path.join(root, 'cats', 'caf\\xE9.jpg'))).toBe(1);
  });

  it('reports an escaped name that reads as the real name of a file beside it, instead of confusing the two', async () => {
    const root = path.join(dir, 'clash');
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(rawPath(root, 'caf', [0xe9], '.jpg'), await jpeg(70));
    const first = await importFolder(handle, { folder: root, labelsFromFolders: false, jobId: 'clash-1' });
    expect(first.imported).toBe(1);
    // a file really named "caf\xE9.jpg" (backslash, x, E, 9) arrives: it takes the name; the Latin-1 one is reported
    fs.writeFileSync(path.join(root, 'caf\\xE9.jpg'), await jpeg(80));
    const second = await importFolder(handle, { folder: root, labelsFromFolders: false, jobId: 'clash-2' });
    expect(second.rejections).toEqual([{ path: path.join(root, 'caf\\xE9.jpg'), reason: expect.stringMatching(/^the file name is not valid UTF-8 text and reads as "caf\\xE9\.jpg", the name of another entry in the same folder; rename it/) }]);
    const stored = handle.db.prepare('SELECT path, path_bytes FROM images').all() as { path: string; path_bytes: Buffer | null }[];
    expect(stored).toEqual([{ path: path.join(root, 'caf\\xE9.jpg'), path_bytes: null }]);
    expect(second.updated).toBe(1);
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
