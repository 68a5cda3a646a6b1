/**
 * Import of generated folders, end to end against a real project file: every bad file of
 * test/fixtures/bad-images.ts, unreadable files, a folder vanishing mid-import, SIGKILL mid-import,
 * cancel, incremental re-import (added, changed, deleted, moved, returning files).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type ImportProgress, type ImportResult } from '../../main/contract/contract';
import { importFolder } from '../../main/dataset/import-folder';
import { generateSampleFolder } from '../../main/dataset/sample';
import { openDatabase } from '../../main/project/database';
import { getThumbnail, listImages, projectStatus } from '../../main/project/queries';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { writeBadImageFolder, type BadImageFolder, type Expectation } from '../fixtures/bad-images';
import { startChildImport } from '../fixtures/child-import';
import { solid } from '../fixtures/images';
import { makeTempDir, removeDir } from '../fixtures/temp';

interface Row {
  id: number;
  path: string;
  status: string;
  reason: string | null;
  class_name: string | null;
  format: string | null;
  width: number | null;
  height: number | null;
  duplicate_of: number | null;
  missing: number;
  mtime_ms: number | null;
  hash: string | null;
  label_source: string | null;
}

let dir: string;
let registry: ProjectRegistry;
let projectCount = 0;

beforeEach(() => {
  dir = makeTempDir('import');
  registry = new ProjectRegistry(path.join(dir, 'home'));
});
afterEach(() => {
  registry.closeAll();
  removeDir(dir);
});

function newProject(): ProjectHandle {
  const file = path.join(dir, `p${++projectCount}.effitune`);
  registry.create(file);
  return registry.get(file);
}

function rowOf(handle: ProjectHandle, file: string): Row | undefined {
  return handle.db
    .prepare(
      `SELECT i.id, i.path, i.status, i.reason, c.name AS class_name, i.format, i.width, i.height, i.duplicate_of, i.missing, i.mtime_ms, i.hash, i.label_source
       FROM images i LEFT JOIN classes c ON c.id = i.class_id WHERE i.path = ?`,
    )
    .get(file) as Row | undefined;
}

async function runImport(handle: ProjectHandle, folder: string, extra: { signal?: AbortSignal; onProgress?: (p: ImportProgress) => void; labelsFromFolders?: boolean } = {}): Promise<ImportResult> {
  return importFolder(handle, { folder, labelsFromFolders: extra.labelsFromFolders ?? true, jobId: `job-${Math.random()}`, ...extra });
}

describe('import of a folder with every kind of bad file', () => {
  let bad: BadImageFolder;
  let handle: ProjectHandle;
  let result: ImportResult;
  const progress: ImportProgress[] = [];
  let suiteDir: string;
  let suiteRegistry: ProjectRegistry;

  beforeAll(async () => {
    suiteDir = makeTempDir('import-bad');
    suiteRegistry = new ProjectRegistry(path.join(suiteDir, 'home'));
    bad = await writeBadImageFolder(path.join(suiteDir, 'images'));
    suiteRegistry.create(path.join(suiteDir, 'bad.effitune'));
    handle = suiteRegistry.get(path.join(suiteDir, 'bad.effitune'));
    result = await importFolder(handle, { folder: bad.root, labelsFromFolders: true, jobId: 'bad', onProgress: (p) => progress.push(p) });
  });
  afterAll(() => {
    suiteRegistry.closeAll();
    removeDir(suiteDir);
  });

  const entries = (outcome: Expectation['outcome']) => [...bad.expected].filter(([, e]) => e.outcome === outcome);

  it('imports each good file with its class, format and size as shown (EXIF applied)', () => {
    for (const [rel, e] of entries('ok')) {
      if (e.outcome !== 'ok') continue;
      const row = rowOf(handle, path.join(bad.root, rel));
      expect(row, rel).toBeDefined();
      expect({ rel, status: row!.status, className: row!.class_name, format: row!.format, width: row!.width, height: row!.height }).toEqual({
        rel,
        status: 'ok',
        className: e.className,
        format: e.format,
        width: e.width,
        height: e.height,
      });
      expect(getThumbnail(handle.db, row!.id), rel).not.toBeNull();
    }
  });

  it('stores 8-bit sRGB RGB WebP thumbnails: first GIF frame, alpha on white, rotated, at most 256 px', async () => {
    for (const [rel] of entries('ok')) {
      const meta = await sharp(getThumbnail(handle.db, rowOf(handle, path.join(bad.root, rel))!.id)!).metadata();
      expect({ rel, format: meta.format, channels: meta.channels, space: meta.space, depth: meta.depth }).toEqual({ rel, format: 'webp', channels: 3, space: 'srgb', depth: 'uchar' });
      expect(Math.max(meta.width, meta.height), rel).toBeLessThanOrEqual(256);
    }
    const pixel = async (rel: string) => [...(await sharp(getThumbnail(handle.db, rowOf(handle, path.join(bad.root, rel))!.id)!).raw().toBuffer()).subarray(0, 3)];
    const [r, g, b] = await pixel('mixed/animated.gif');
    expect(r).toBeGreaterThan(200);
    expect(g + b).toBeLessThan(100);
    expect((await pixel('mixed/alpha.png')).every((v) => v > 245)).toBe(true);
    const rotated = await sharp(getThumbnail(handle.db, rowOf(handle, path.join(bad.root, 'mixed/rotated-exif.jpg'))!.id)!).metadata();
    expect(rotated.height).toBe(256);
    expect(rotated.width).toBeLessThan(rotated.height);
  });

  it('rejects each bad file with a reason in words, in the result and in the project', () => {
    for (const [rel, e] of entries('rejected')) {
      if (e.outcome !== 'rejected') continue;
      const file = path.join(bad.root, rel);
      const reported = result.rejections.find((r) => r.path === file);
      expect(reported, `${rel} should be reported as rejected`).toBeDefined();
      expect(reported!.reason, rel).toMatch(e.reason);
      const row = rowOf(handle, file);
      if (e.row) expect({ rel, status: row?.status, reason: row?.reason }).toEqual({ rel, status: 'rejected', reason: reported!.reason });
      else expect(row, rel).toBeUndefined();
    }
    expect(result.rejections).toHaveLength(entries('rejected').length);
  });

  it('imports one of two identical files and reports the other as its duplicate', () => {
    const [[relA], [relB]] = entries('twin');
    const a = rowOf(handle, path.join(bad.root, relA))!;
    const b = rowOf(handle, path.join(bad.root, relB))!;
    const [original, copy] = a.status === 'ok' ? [a, b] : [b, a];
    expect(original.status).toBe('ok');
    expect(copy.status).toBe('duplicate');
    expect(copy.duplicate_of).toBe(original.id);
    expect(copy.reason).toBe(`same content as ${original.path}`);
    expect(getThumbnail(handle.db, copy.id)).toBeNull();
    expect(result.duplicates).toEqual([{ path: copy.path, duplicateOf: original.path }]);
  });

  it('ignores hidden files, hidden folders and files that are not images', () => {
    for (const [rel] of entries('ignored')) expect(rowOf(handle, path.join(bad.root, rel)), rel).toBeUndefined();
    const paths = handle.db.prepare('SELECT path FROM images').pluck().all() as string[];
    expect(paths.filter((p) => p.includes('/.'))).toEqual([]);
  });

  it('adds up: counts, classes, status and progress agree', () => {
    const okCount = entries('ok').length + 1; // plus one of the twins
    const fileRejections = entries('rejected').filter(([, e]) => e.outcome === 'rejected' && e.row).length;
    expect(result).toMatchObject({ cancelled: false, imported: okCount, updated: 0, unchanged: 0, duplicate: 1, missing: 0 });
    expect(result.seen).toBe(okCount + 1 + fileRejections);
    const perClass = (name: string) => entries('ok').filter(([, e]) => e.outcome === 'ok' && e.className === name).length + (name === 'circle' ? 1 : 0);
    expect(result.classes).toEqual(['circle', 'mixed', 'square', 'star', 'triangle'].map((name) => ({ name, count: perClass(name) })));

    const status = projectStatus(handle);
    expect(status).toMatchObject({ images: okCount, labeled: okCount - 1, unlabeled: 1, rejected: fileRejections, duplicates: 1, missing: 0 });
    expect(status.sources).toEqual([{ folder: bad.root, labelsFromFolders: true, lastImportAt: expect.any(String) }]);
    expect(listImages(handle.db, {}, 0, 1000).total).toBe(okCount);
    expect(listImages(handle.db, { status: 'rejected' }, 0, 1000).total).toBe(fileRejections);

    expect(progress[0].phase).toBe('scanning');
    expect(progress.at(-1)).toMatchObject({ phase: 'done', seen: result.seen, total: result.seen, rejected: result.rejected, duplicates: 1 });
    for (let i = 1; i < progress.length; i++) expect(progress[i].seen).toBeGreaterThanOrEqual(progress[i - 1].seen);
  });

  it('re-imports the unchanged folder without reading the files again', async () => {
    const again = await importFolder(handle, { folder: bad.root, labelsFromFolders: true, jobId: 'bad-again' });
    const fileRejections = entries('rejected').filter(([, e]) => e.outcome === 'rejected' && e.row);
    // files that could not be read (links) are tried again; the duplicate is re-read in case its original went
    const retried = fileRejections.filter(([rel]) => rel.startsWith('links')).length;
    expect(again).toMatchObject({ imported: 0, updated: 0, duplicate: 1, missing: 0 });
    expect(again.unchanged).toBe(result.seen - 1 - retried);
    expect(projectStatus(handle).images).toBe(result.imported);
  });
});

describe('import robustness', () => {
  it('rejects a file it may not read, and reads it on the next import once it can', async (context) => {
    const folder = path.join(dir, 'perm');
    fs.mkdirSync(folder);
    await solid(20, 20, '#ff0000').png().toFile(path.join(folder, 'readable.png'));
    await solid(20, 20, '#00ff00').png().toFile(path.join(folder, 'secret.png'));
    fs.chmodSync(path.join(folder, 'secret.png'), 0o000);
    const handle = newProject();

    let result: ImportResult;
    if (process.getuid?.() === 0) {
      // root reads any file, so the import runs as "nobody" in a child process
      registry.close(handle.path);
      for (const p of [dir, folder]) fs.chmodSync(p, 0o777);
      fs.chmodSync(handle.path, 0o666);
      const { lines, stderr } = await startChildImport(handle.path, folder, { uid: 65534, gid: 65534, env: { HOME: dir } }).done;
      const last = lines.at(-1);
      // a checkout inside a private folder (e.g. /root) cannot be loaded by "nobody": nothing to test then
      if (!last && /EACCES|permission denied/i.test(stderr)) context.skip(`user nobody cannot load this checkout: ${stderr.split('\n')[0]}`);
      if (last?.type !== 'result') throw new Error(`child import failed: ${JSON.stringify(last)} ${stderr}`);
      result = last.result;
    } else {
      result = await runImport(handle, folder);
    }
    const reopened = registry.get(handle.path);
    expect(result.rejections).toEqual([{ path: path.join(folder, 'secret.png'), reason: 'the file cannot be read: permission denied' }]);
    expect(result.imported).toBe(1);
    expect(rowOf(reopened, path.join(folder, 'secret.png'))).toMatchObject({ status: 'rejected', mtime_ms: null });

    fs.chmodSync(path.join(folder, 'secret.png'), 0o644);
    const again = await runImport(reopened, folder);
    expect(again).toMatchObject({ imported: 1, unchanged: 1, rejected: 0 });
    expect(rowOf(reopened, path.join(folder, 'secret.png'))).toMatchObject({ status: 'ok', class_name: null });
  });

  it('survives its folder vanishing mid-import, reporting the files it could not reach', async () => {
    const folder = path.join(dir, 'vanishing');
    await generateSampleFolder(folder, 30);
    const handle = newProject();
    let deletedAt = -1;
    const result = await runImport(handle, folder, {
      onProgress: (p) => {
        if (deletedAt < 0 && p.seen >= 1) {
          deletedAt = p.seen;
          fs.rmSync(folder, { recursive: true, force: true });
        }
      },
    });
    expect(deletedAt).toBeGreaterThan(0);
    const vanished = result.rejections.filter((r) => /vanished during the import/.test(r.reason));
    expect(vanished.length).toBeGreaterThan(0);
    expect(result.rejections).toEqual(vanished);
    expect(result.cancelled).toBe(false);
    expect(result.imported).toBeGreaterThanOrEqual(deletedAt);
    expect(result.imported).toBeLessThan(120);
    expect(projectStatus(handle)).toMatchObject({ images: result.imported, rejected: 0 });

    await expect(runImport(handle, folder)).rejects.toMatchObject({ code: 'not_found', message: `folder ${folder} does not exist` });
  });

  it('errors in words for a folder that is not there or not a folder, and for a second import at once', async () => {
    const handle = newProject();
    const file = path.join(dir, 'file.txt');
    fs.writeFileSync(file, 'x');
    await expect(runImport(handle, path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'not_found' });
    await expect(runImport(handle, file)).rejects.toMatchObject({ code: 'invalid_input', message: `${file} is not a folder` });

    const folder = path.join(dir, 'two');
    await generateSampleFolder(folder, 2);
    const first = runImport(handle, folder);
    await expect(runImport(handle, folder)).rejects.toBeInstanceOf(ApiError);
    await expect(runImport(handle, folder)).rejects.toMatchObject({ code: 'busy' });
    expect((await first).imported).toBe(8);
  });

  it('reports a copy of an image imported earlier from another folder as a duplicate', async () => {
    const handle = newProject();
    await generateSampleFolder(path.join(dir, 'a'), 2);
    fs.mkdirSync(path.join(dir, 'b'));
    fs.copyFileSync(path.join(dir, 'a', 'star', 'star-001.jpg'), path.join(dir, 'b', 'copy.jpg'));
    await runImport(handle, path.join(dir, 'a'));
    const result = await runImport(handle, path.join(dir, 'b'));
    expect(result).toMatchObject({ imported: 0, duplicate: 1, duplicates: [{ path: path.join(dir, 'b', 'copy.jpg'), duplicateOf: path.join(dir, 'a', 'star', 'star-001.jpg') }] });
  });
});

describe('interrupted imports', () => {
  let folder: string;
  let shared: string;
  const COUNT = 300;
  beforeAll(async () => {
    shared = makeTempDir('import-300');
    folder = path.join(shared, 'images');
    await generateSampleFolder(folder, COUNT / 4);
  });
  afterAll(() => removeDir(shared));

  it('leaves a consistent project when killed with SIGKILL, and a re-run completes it', async () => {
    const handle = newProject();
    registry.close(handle.path);
    let killedAtSeen = -1;
    const { done } = startChildImport(handle.path, folder, {
      onLine: (line, child) => {
        if (line.type === 'progress' && line.seen >= 60 && killedAtSeen < 0) {
          killedAtSeen = line.seen;
          child.kill('SIGKILL');
        }
      },
    });
    const { signal, stderr } = await done;
    expect(signal, stderr).toBe('SIGKILL');
    expect(killedAtSeen).toBeGreaterThanOrEqual(60);

    const db = openDatabase(handle.path, { create: false });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const rows = db.prepare(`SELECT COUNT(*) FROM images`).pluck().get() as number;
    const thumbs = db.prepare(`SELECT COUNT(*) FROM thumbnails`).pluck().get() as number;
    expect(rows).toBeLessThan(COUNT);
    // rows and their thumbnails are written in the same transactions
    expect(thumbs).toBe(rows);
    db.close();

    const reopened = registry.get(handle.path);
    const result = await runImport(reopened, folder);
    expect(result.imported + result.unchanged).toBe(COUNT);
    expect(result.unchanged).toBe(rows);
    expect(result.imported).toBeGreaterThan(0);
    expect(projectStatus(reopened)).toMatchObject({ images: COUNT, labeled: COUNT, rejected: 0, duplicates: 0 });
  });

  it('stops promptly when cancelled, keeps what is done, and a re-run completes it', async () => {
    const handle = newProject();
    const controller = new AbortController();
    const events: ImportProgress[] = [];
    let abortedAt = -1;
    const result = await runImport(handle, folder, {
      signal: controller.signal,
      onProgress: (p) => {
        events.push(p);
        if (abortedAt < 0 && p.seen >= 20) {
          abortedAt = p.seen;
          controller.abort();
        }
      },
    });
    expect(result.cancelled).toBe(true);
    // only the files already in flight finish after the abort
    expect(result.seen).toBeLessThan(abortedAt + 40);
    expect(events.at(-1)!.phase).toBe('cancelled');
    expect(projectStatus(handle).images).toBe(result.imported);
    expect(projectStatus(handle).sources[0].lastImportAt).toBeNull();

    const rest = await runImport(handle, folder);
    expect(rest).toMatchObject({ cancelled: false, unchanged: result.imported, imported: COUNT - result.imported, missing: 0 });
  });
});

describe('incremental re-import', () => {
  it('reads only new and changed files, marks deleted ones missing and keeps labels of files that come back or move', async () => {
    const folder = path.join(dir, 'inc');
    const sample = await generateSampleFolder(folder, 3);
    const handle = newProject();
    // whole-second times, so that a restored file can get exactly the time it had
    const start = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    for (const file of sample.files) fs.utimesSync(file, start, start);
    const first = await runImport(handle, folder);
    expect(first.imported).toBe(12);

    const p = (rel: string) => path.join(folder, rel);
    // a user label on a file that is then deleted
    handle.db.prepare(`INSERT INTO classes (name, color) VALUES ('favourite', '#000000')`).run();
    handle.db.prepare(`UPDATE images SET class_id = (SELECT id FROM classes WHERE name = 'favourite'), label_source = 'user' WHERE path = ?`).run(p('star/star-001.jpg'));
    const savedStar = fs.readFileSync(p('star/star-001.jpg'));
    const savedTime = start;
    fs.rmSync(p('star/star-001.jpg'));
    fs.rmSync(p('square/square-003.jpg'));
    // changed content, same path
    const changedBefore = rowOf(handle, p('circle/circle-001.jpg'))!;
    await solid(128, 128, '#123456').jpeg().toFile(p('circle/circle-001.jpg'));
    fs.utimesSync(p('circle/circle-001.jpg'), new Date(), new Date(Date.now() + 5000));
    // moved to another class folder: the row follows, with the new folder's label
    const movedBefore = rowOf(handle, p('circle/circle-002.png'))!;
    fs.renameSync(p('circle/circle-002.png'), p('square/was-a-circle.png'));
    // new files, one of them loose (unlabeled)
    await solid(64, 64, '#abcdef').png().toFile(p('triangle/new.png'));
    await solid(64, 64, '#fedcba').png().toFile(p('loose.png'));

    const second = await runImport(handle, folder);
    expect(second).toMatchObject({ imported: 2, updated: 2, unchanged: 12 - 4, duplicate: 0, rejected: 0, missing: 2 });

    const changed = rowOf(handle, p('circle/circle-001.jpg'))!;
    expect(changed.id).toBe(changedBefore.id);
    expect(changed.hash).not.toBe(changedBefore.hash);
    const moved = rowOf(handle, p('square/was-a-circle.png'))!;
    expect(moved).toMatchObject({ id: movedBefore.id, class_name: 'square', status: 'ok', missing: 0 });
    expect(rowOf(handle, p('circle/circle-002.png'))).toBeUndefined();
    expect(rowOf(handle, p('loose.png'))!.class_name).toBeNull();
    expect(rowOf(handle, p('star/star-001.jpg'))).toMatchObject({ missing: 1, class_name: 'favourite', label_source: 'user' });
    expect(rowOf(handle, p('square/square-003.jpg'))).toMatchObject({ missing: 1, class_name: 'square' });
    expect(projectStatus(handle)).toMatchObject({ images: 12, missing: 2 });
    expect(listImages(handle.db, { missing: true }, 0, 10).total).toBe(2);

    // the deleted file comes back untouched: no read, not missing, the user's label kept
    fs.writeFileSync(p('star/star-001.jpg'), savedStar);
    fs.utimesSync(p('star/star-001.jpg'), savedTime, savedTime);
    const third = await runImport(handle, folder);
    expect(third).toMatchObject({ imported: 0, updated: 0, unchanged: 13, missing: 1 });
    expect(rowOf(handle, p('star/star-001.jpg'))).toMatchObject({ missing: 0, class_name: 'favourite', label_source: 'user' });
    expect(sample.files).toHaveLength(12);
  });

  it('labels unlabeled images from their folders when re-imported with labels from folders', async () => {
    const folder = path.join(dir, 'relabel');
    await generateSampleFolder(folder, 2);
    const handle = newProject();
    expect((await runImport(handle, folder, { labelsFromFolders: false })).classes).toEqual([]);
    expect(projectStatus(handle)).toMatchObject({ images: 8, labeled: 0 });
    const again = await runImport(handle, folder, { labelsFromFolders: true });
    expect(again.unchanged).toBe(8);
    expect(projectStatus(handle)).toMatchObject({ images: 8, labeled: 8 });
    expect(projectStatus(handle).sources[0].labelsFromFolders).toBe(true);
  });
});
