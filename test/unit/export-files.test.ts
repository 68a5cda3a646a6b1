/**
 * The file handling of exports and predictions without a model: the atomic export folder (refused
 * when it exists, replaced whole with force, the old one back if the swap fails, nothing left on
 * discard) and the image files of a prediction (folders walked recursively, missing paths reported).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commitFolder, discardFolder, stageFolder } from '../../main/export/atomic-folder';
import { collectImageFiles } from '../../main/export/predict/image-files';
import { shownPath } from '../../main/dataset/file-name-bytes';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
beforeEach(() => {
  dir = makeTempDir('export-files');
});
afterEach(() => {
  vi.restoreAllMocks();
  removeDir(dir);
});

describe('atomic export folder', () => {
  it('writes into a hidden sibling and renames it into place', () => {
    const staged = stageFolder(path.join(dir, 'nested', 'out'), false);
    expect(path.dirname(staged.temp)).toBe(path.join(dir, 'nested'));
    expect(path.basename(staged.temp)).toMatch(/^\.out\.tmp-/);
    fs.writeFileSync(path.join(staged.temp, 'a.txt'), 'a');
    expect(commitFolder(staged, false)).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'nested'))).toEqual(['out']);
    expect(fs.readFileSync(path.join(dir, 'nested', 'out', 'a.txt'), 'utf8')).toBe('a');
  });

  it('refuses an existing folder or file without force and replaces a folder with force', () => {
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'old.txt'), 'old');
    expect(() => stageFolder(out, false)).toThrow(expect.objectContaining({ code: 'already_exists' }));
    fs.writeFileSync(path.join(dir, 'file'), '');
    expect(() => stageFolder(path.join(dir, 'file'), true)).toThrow(/is a file/);
    const staged = stageFolder(out, true);
    fs.writeFileSync(path.join(staged.temp, 'new.txt'), 'new');
    expect(commitFolder(staged, true)).toBe(true);
    expect(fs.readdirSync(out)).toEqual(['new.txt']);
    expect(fs.readdirSync(dir).sort()).toEqual(['file', 'out']);
  });

  it('puts the old folder back when the new one cannot be renamed in', () => {
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'old.txt'), 'old');
    const staged = stageFolder(out, true);
    const rename = fs.renameSync;
    vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      if (from === staged.temp) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      rename(from, to);
    });
    expect(() => commitFolder(staged, true)).toThrow(/EIO/);
    vi.restoreAllMocks();
    discardFolder(staged);
    expect(fs.readdirSync(out)).toEqual(['old.txt']);
    expect(fs.readdirSync(dir)).toEqual(['out']);
  });
});

describe('collectImageFiles', () => {
  it('takes files as given, walks folders for images in path order, and reports missing paths', () => {
    fs.mkdirSync(path.join(dir, 'photos', 'b', 'c'), { recursive: true });
    for (const f of ['photos/z.JPG', 'photos/a.png', 'photos/b/c/deep.webp', 'photos/b/readme.txt', 'loose.bin']) fs.writeFileSync(path.join(dir, f), '');
    fs.mkdirSync(path.join(dir, 'empty'));
    const { files, problems } = collectImageFiles([path.join(dir, 'loose.bin'), path.join(dir, 'photos'), path.join(dir, 'photos', 'a.png'), path.join(dir, 'gone.jpg'), path.join(dir, 'empty')]);
    expect(files.map((f) => path.relative(dir, shownPath(f)))).toEqual(['loose.bin', 'photos/a.png', 'photos/b/c/deep.webp', 'photos/z.JPG']);
    expect(problems).toEqual([
      { path: path.join(dir, 'gone.jpg'), error: 'no such file or folder' },
      { path: path.join(dir, 'empty'), error: expect.stringContaining('no image files') },
    ]);
  });
});
