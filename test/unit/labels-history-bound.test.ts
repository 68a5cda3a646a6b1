/**
 * The label history and the undo journal stay bounded: labeling 2,000 images from a CSV and undoing
 * it, again and again, leaves only the rows of the edit that can still be redone; undoing and redoing
 * one edit over and over keeps at most a few rows per image; the journal keeps the newest 50 edits and
 * an image the newest 100 history rows. The history that stays still reads as one chain per image (each
 * change starts from the class the previous one ended with) ending at the image's label, with who
 * and how.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentUser } from '../../main/dataset/labels/who';
import { addClass, addImages, classOf, makeLabelsProject, snapshot, type LabelsProject } from './labels-helpers';

let p: LabelsProject;
beforeEach(() => {
  p = makeLabelsProject('labels-history-bound');
  p.db.prepare('INSERT INTO sources (folder) VALUES (?)').run('/data');
});
afterEach(() => p.close());

const call = (name: string, input: Record<string, unknown> = {}) => p.service.call(name as never, { project: p.file, ...input }) as Promise<any>;

const historyRows = () => p.db.prepare('SELECT COUNT(*) FROM label_history').pluck().get() as number;
const editRows = () => p.db.prepare('SELECT COUNT(*) FROM edits').pluck().get() as number;
const pathOf = (id: number) => p.db.prepare('SELECT path FROM images WHERE id = ?').pluck().get(id) as string;

/** A CSV labeling every image: the first class for even positions, the second for odd ones. */
function labelsCsv(ids: readonly number[], classes: [string, string]): string {
  const file = path.join(p.dir, 'labels.csv');
  fs.writeFileSync(file, `path,class\n${ids.map((id, i) => `${pathOf(id)},${classes[i % 2]}`).join('\n')}\n`);
  return file;
}

/** Every image's history is one chain (each row starts where the previous ended) that ends at its current class. */
function expectChains(ids: readonly number[]): void {
  for (const id of ids) {
    const rows = p.db.prepare('SELECT from_class, to_class FROM label_history WHERE image_id = ? ORDER BY id').all(id) as { from_class: string | null; to_class: string | null }[];
    for (let i = 1; i < rows.length; i++) expect(rows[i].from_class, `image ${id}, history row ${i + 1}`).toBe(rows[i - 1].to_class);
    if (rows.length > 0) expect(rows.at(-1)!.to_class, `image ${id}: the newest history row names its class`).toBe(classOf(p.db, id));
  }
}

describe('label history of label/undo cycles', () => {
  it('16 cycles of importing a 2,000-row CSV and undoing it keep 4,000 history rows (the last import and its undo), not 64,000', async () => {
    const cat = addClass(p.db, 'cat');
    addClass(p.db, 'dog');
    const ids = addImages(p.db, cat, 2000);
    const file = labelsCsv(ids, ['dog', 'dog']);
    const before = snapshot(p.db);
    for (let cycle = 0; cycle < 16; cycle++) {
      expect((await call('labels.import', { file })).labeled).toBe(2000);
      expect((await call('edits.undo')).edit).toMatchObject({ kind: 'labels.import', undone: true });
    }
    expect(snapshot(p.db)).toEqual(before);
    // the newest import's rows and its undo's, nothing of the 15 before
    expect(historyRows()).toBe(4000);
    expect(editRows()).toBe(1);
    expectChains(ids);
    expect((await call('labels.history', { imageId: ids[0] })).entries.map((h: any) => [h.fromClass, h.toClass, h.source, h.who])).toEqual([
      ['cat', 'dog', 'csv', currentUser()],
      ['dog', 'cat', 'undo', currentUser()],
    ]);

    // the last import can still be redone, and a new edit then keeps what it changed
    await call('edits.redo');
    expect(classOf(p.db, ids[0])).toBe('dog');
    expect(historyRows()).toBe(6000);
    await call('labels.set', { imageIds: [ids[1]], class: 'cat' });
    expect(historyRows()).toBe(6001);
    expectChains(ids);
  });

  it('a label kept by hand between an edit and its undo keeps that image\'s whole history when the edit is dropped', async () => {
    const cat = addClass(p.db, 'cat');
    addClass(p.db, 'dog');
    const ids = addImages(p.db, cat, 4);
    await call('labels.set', { imageIds: ids, class: 'dog' });
    await call('labels.confirm', { imageIds: [ids[0]] });
    await call('edits.undo');
    // a new edit drops the undone one: its rows go, except where something else happened in between
    await call('labels.set', { imageIds: [ids[3]], class: 'dog' });
    expect((await call('labels.history', { imageId: ids[0] })).entries.map((h: any) => [h.fromClass, h.toClass, h.source])).toEqual([
      ['cat', 'dog', 'user'],
      ['dog', 'dog', 'user'],
      ['dog', 'cat', 'undo'],
    ]);
    expect((await call('labels.history', { imageId: ids[1] })).entries).toEqual([]);
    expect((await call('labels.history', { imageId: ids[3] })).entries.map((h: any) => h.source)).toEqual(['user']);
    expectChains(ids);
  });

  it('undoing and redoing one edit 16 times keeps at most 4 rows per image, and the chain', async () => {
    const cat = addClass(p.db, 'cat');
    addClass(p.db, 'dog');
    const ids = addImages(p.db, cat, 2000);
    await call('labels.import', { file: labelsCsv(ids, ['dog', 'dog']) });
    for (let i = 0; i < 16; i++) {
      await call('edits.undo');
      expect(classOf(p.db, ids[5])).toBe('cat');
      await call('edits.redo');
      expect(classOf(p.db, ids[5])).toBe('dog');
    }
    expect(historyRows()).toBeLessThanOrEqual(4 * 2000);
    expect((await call('labels.history', { imageId: ids[5] })).entries.map((h: any) => h.source)).toEqual(['csv', 'undo', 'redo']);
    expectChains(ids);
    await call('edits.undo');
    expect(classOf(p.db, ids[5])).toBe('cat');
    expect((await call('labels.history', { imageId: ids[5] })).entries.map((h: any) => h.source)).toEqual(['csv', 'undo', 'redo', 'undo']);
    expectChains(ids);
  });
});

describe('bounds of the journal and of one image\'s history', () => {
  it('keeps the newest 50 edits: 50 undos go back 50 steps, the 51st has nothing left to undo', async () => {
    for (let i = 0; i < 60; i++) await call('classes.create', { name: `class ${i}` });
    expect(editRows()).toBe(50);
    for (let i = 59; i >= 10; i--) expect((await call('edits.undo')).edit.summary).toBe(`create class "class ${i}"`);
    expect((await call('edits.undo')).edit).toBeNull();
    expect((await call('classes.list')).classes.map((c: any) => c.name)).toEqual(Array.from({ length: 10 }, (_, i) => `class ${i}`));
  });

  it('keeps the newest 100 history rows of an image, with who and how of its current label', async () => {
    const a = addClass(p.db, 'a');
    addClass(p.db, 'b');
    const [id, other] = addImages(p.db, a, 2);
    for (let i = 0; i < 120; i++) await call('labels.set', { imageIds: [id], class: i % 2 === 0 ? 'b' : 'a' });
    await call('labels.set', { imageIds: [other], class: 'b' });
    const entries = (await call('labels.history', { imageId: id })).entries;
    expect(entries).toHaveLength(100);
    expect(entries.at(-1)).toMatchObject({ fromClass: 'b', toClass: 'a', source: 'user', who: currentUser() });
    expect((await call('labels.history', { imageId: other })).entries).toHaveLength(1);
    expectChains([id, other]);
  });
});
