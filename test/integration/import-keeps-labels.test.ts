/**
 * Re-importing a folder never undoes labeling work: a label the user cleared stays cleared, a class
 * the user deleted is not brought back, and a folder named "Cat" joins an existing class "cat".
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { importFolder } from '../../main/dataset/import-folder';
import { deleteClass } from '../../main/dataset/labels/classes';
import { setLabels } from '../../main/dataset/labels/image-labels';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { solid } from '../fixtures/images';
import { makeTempDir, removeDir } from '../fixtures/temp';

let dir: string;
let registry: ProjectRegistry;
let handle: ProjectHandle;

beforeEach(() => {
  dir = makeTempDir('import-labels');
  registry = new ProjectRegistry(path.join(dir, 'home'));
  const file = path.join(dir, 'p.effitune');
  registry.create(file);
  handle = registry.get(file);
});
afterEach(() => {
  registry.closeAll();
  removeDir(dir);
});

async function writeImages(folder: string, names: string[], colour: string): Promise<void> {
  fs.mkdirSync(folder, { recursive: true });
  for (const [i, name] of names.entries()) await solid(24 + i, 24, colour).png().toFile(path.join(folder, name));
}

const importAgain = (folder: string) => importFolder(handle, { folder, labelsFromFolders: true, jobId: `job-${Math.random()}` });
const classNames = () => (handle.db.prepare('SELECT name FROM classes ORDER BY name').pluck().all() as string[]);
const labelOf = (file: string) => handle.db.prepare('SELECT c.name FROM images i LEFT JOIN classes c ON c.id = i.class_id WHERE i.path = ?').pluck().get(file) as string | null;

it('keeps a cleared label cleared and a deleted class deleted on re-import', async () => {
  const root = path.join(dir, 'data');
  await writeImages(path.join(root, 'cat'), ['a.png', 'b.png'], '#c33');
  await writeImages(path.join(root, 'dog'), ['c.png'], '#33c');
  await importAgain(root);
  expect(classNames()).toEqual(['cat', 'dog']);

  const a = path.join(root, 'cat', 'a.png');
  const aId = handle.db.prepare('SELECT id FROM images WHERE path = ?').pluck().get(a) as number;
  setLabels(handle.db, { imageIds: [aId], class: null, source: 'user' }, 'tester');
  deleteClass(handle.db, 'dog', 'tester');

  await importAgain(root);
  expect(labelOf(a)).toBeNull();
  expect(labelOf(path.join(root, 'cat', 'b.png'))).toBe('cat');
  expect(labelOf(path.join(root, 'dog', 'c.png'))).toBeNull();
  expect(classNames()).toEqual(['cat']);
});

it('matches folder names to classes ignoring case', async () => {
  const root = path.join(dir, 'data');
  await writeImages(path.join(root, 'cat'), ['a.png'], '#c33');
  await importAgain(root);
  await writeImages(path.join(root, 'Cat'), ['d.png'], '#c34');
  await importAgain(root);
  expect(classNames()).toEqual(['cat']);
  expect(labelOf(path.join(root, 'Cat', 'd.png'))).toBe('cat');
});
