/**
 * checkTrainable: the data-set checks the trainer runs before any work, each failing with a message
 * that names the classes to fix. Rows are inserted directly: no image files are needed.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type SplitName } from '../../main/contract/contract';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { checkTrainable } from '../../main/train/data/trainable';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
let registry: ProjectRegistry;
let handle: ProjectHandle;
let n = 0;

beforeEach(() => {
  dir = makeTempDir('trainable');
  registry = new ProjectRegistry(path.join(dir, 'home'));
  registry.create(path.join(dir, 'p.effitune'));
  handle = registry.get(path.join(dir, 'p.effitune'));
});
afterEach(() => {
  registry.closeAll();
  removeDir(dir);
});

function addClass(name: string, splits: (SplitName | null)[], options: { missing?: boolean } = {}): void {
  handle.db.prepare('INSERT OR IGNORE INTO classes (name, color) VALUES (?, ?)').run(name, '#000000');
  const classId = (handle.db.prepare('SELECT id FROM classes WHERE name = ?').get(name) as { id: number }).id;
  for (const split of splits) {
    n++;
    handle.db
      .prepare(`INSERT INTO images (path, bytes, hash, status, class_id, split, missing, imported_at) VALUES (?, 1, ?, 'ok', ?, ?, ?, 'now')`)
      .run(`/d/${n}.jpg`, `h${n}`, classId, split, options.missing ? 1 : 0);
  }
}

function refusal(options?: { classes?: string[] }): ApiError {
  try {
    checkTrainable(handle, options);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected checkTrainable to refuse');
}

describe('checkTrainable', () => {
  it('refuses a project with no labeled images', () => {
    handle.db.prepare(`INSERT INTO images (path, bytes, hash, status, imported_at) VALUES ('/d/loose.jpg', 1, 'x', 'ok', 'now')`).run();
    const error = refusal();
    expect(error.code).toBe('invalid_input');
    expect(error.message).toMatch(/no labeled images/);
  });

  it('names a class with no images, counting files missing from disk as gone', () => {
    addClass('cat', ['train', 'train', 'val']);
    addClass('dog', ['train', 'val'], { missing: true });
    const error = refusal();
    expect(error.message).toBe('class "dog" has no images: label some images with it or delete the class');
    expect(error.details).toEqual({ classes: ['dog'] });
  });

  it('names every class with a single image', () => {
    addClass('cat', ['train', 'train']);
    addClass('dog', ['train']);
    addClass('eel', ['train']);
    expect(refusal().message).toBe('classes "dog" and "eel" have only one image: every class needs at least 2 (one to train on, one to check it)');
  });

  it('needs two classes', () => {
    addClass('cat', ['train', 'val', 'train']);
    expect(refusal().message).toMatch(/at least 2 classes; this project has only class "cat"/);
  });

  it('names a class with nothing to train on, saying how to fix it', () => {
    addClass('cat', ['train', 'val']);
    addClass('dog', [null, null, null]);
    expect(refusal().message).toBe('class "dog" has no images in the train split: split the project (effitune split) to assign its new images');
    addClass('eel', ['test', 'val']);
    expect(refusal().message).toMatch(/^classes "dog" and "eel" have no images in the train split/);
  });

  it('passes a usable data set in class-name order with counts and warnings', () => {
    addClass('dog', ['train', 'train', 'val', 'test', null]);
    addClass('cat', ['train', 'train']);
    const summary = checkTrainable(handle);
    expect(summary.classes.map((c) => c.name)).toEqual(['cat', 'dog']);
    expect(summary.classes[1]).toMatchObject({ total: 5, train: 2, val: 1, test: 1, unsplit: 1 });
    expect(summary).toMatchObject({ train: 4, val: 1, test: 1, unsplit: 1 });
    expect(summary.warnings).toEqual([
      '1 labeled image(s) have no split and are not used: split the project to assign them',
      'class "cat" has no validation images: its accuracy is not measured',
    ]);
  });

  it('follows the class order of a run, and refuses one whose class is gone', () => {
    addClass('cat', ['train', 'val']);
    addClass('dog', ['train', 'val']);
    addClass('eel', ['train', 'val']);
    const summary = checkTrainable(handle, { classes: ['eel', 'cat'] });
    expect(summary.classes.map((c) => c.name)).toEqual(['eel', 'cat']);
    expect(summary.warnings).toEqual(['class "dog" is not among this run\'s classes and is left out']);
    expect(refusal({ classes: ['cat', 'fox'] }).message).toBe('class "fox" of this run no longer exists in the project');
  });

  it('warns when there is no validation split at all', () => {
    addClass('cat', ['train', 'train']);
    addClass('dog', ['train', 'train']);
    expect(checkTrainable(handle).warnings).toEqual(['no image is in the validation split: there is no validation loss, so no early stopping and no best checkpoint']);
  });
});
