/**
 * Class management through the service: create (free palette colour, trimmed, unique ignoring case
 * in any language), rename, recolour, reorder, merge and delete — each, its undo (exactly the state
 * before, the same class id, name, colour and position) and its redo (exactly the state after).
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../main/project/database';
import { migrations } from '../../main/project/migrations';
import { ApiError } from '../../main/contract/contract';
import { CLASS_PALETTE } from '../../main/dataset/labels/class-names';
import { addClass, addImages, classOf, makeLabelsProject, snapshot, type LabelsProject } from './labels-helpers';

let p: LabelsProject;
beforeEach(() => {
  p = makeLabelsProject('labels-classes');
});
afterEach(() => p.close());

const call = (name: string, input: Record<string, unknown> = {}) => p.service.call(name as never, { project: p.file, ...input }) as Promise<any>;

/** Runs an edit, then checks undo gives back the state before exactly and redo the state after. */
async function checkUndoRedo(edit: () => Promise<unknown>): Promise<any> {
  const before = snapshot(p.db);
  const result = await edit();
  const after = snapshot(p.db);
  expect(after).not.toEqual(before);
  expect((await call('edits.undo')).edit).not.toBeNull();
  expect(snapshot(p.db)).toEqual(before);
  expect((await call('edits.redo')).edit).not.toBeNull();
  expect(snapshot(p.db)).toEqual(after);
  return result;
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).code).toBe(code);
  expect((err as ApiError).message).toMatch(message);
}

describe('classes', () => {
  it('creates classes with a palette colour not used yet, trimmed, last in the order, and undoes it', async () => {
    addClass(p.db, 'folder class', CLASS_PALETTE[0]);
    const created = await checkUndoRedo(() => call('classes.create', { name: '  Katze  ' }));
    expect(created.class).toMatchObject({ name: 'Katze', color: CLASS_PALETTE[1], count: 0, position: 2 });
    expect(created.edit).toMatchObject({ kind: 'classes.create', summary: 'create class "Katze"', undone: false });
    const explicit = await call('classes.create', { name: 'Hund', color: '#ABCDEF' });
    expect(explicit.class).toMatchObject({ color: '#abcdef', position: 3 });
    expect((await call('classes.list')).classes.map((c: any) => c.name)).toEqual(['folder class', 'Katze', 'Hund']);
  });

  it('refuses a name another class has, ignoring case in any language and Unicode normal form', async () => {
    await call('classes.create', { name: 'Ärger' });
    await rejects(call('classes.create', { name: 'äRGER' }), 'already_exists', /already a class named "äRGER" \("Ärger"; names are compared ignoring case\)/);
    await rejects(call('classes.create', { name: 'A\u0308rger' }), 'already_exists', /already a class named/); // decomposed Ä
    await rejects(call('classes.create', { name: '   ' }), 'invalid_input', /name: class name must not be empty/);
    await rejects(call('classes.create', { name: 'a/b' }), 'invalid_input', /slashes/);
    await call('classes.create', { name: '猫' });
    await rejects(call('classes.create', { name: '猫 ' }), 'already_exists', /"猫"/);
  });

  it('renames (a change of case of the same class is allowed), recolours, and undoes both', async () => {
    const id = addClass(p.db, 'cat');
    addClass(p.db, 'dog');
    const renamed = await checkUndoRedo(() => call('classes.rename', { class: 'CAT', name: 'Cat' }));
    expect(renamed.class).toMatchObject({ id, name: 'Cat' });
    await rejects(call('classes.rename', { class: id, name: 'DOG' }), 'already_exists', /already a class named "DOG" \("dog"/);
    await rejects(call('classes.rename', { class: 'bird', name: 'x' }), 'not_found', /no class "bird" in this project \(classes: "Cat", "dog"\)/);
    expect((await call('classes.rename', { class: id, name: 'Cat' })).edit).toBeNull();
    const recoloured = await checkUndoRedo(() => call('classes.recolor', { class: 'dog', color: '#FF0000' }));
    expect(recoloured.class.color).toBe('#ff0000');
    await rejects(call('classes.recolor', { class: 'dog', color: 'red' }), 'invalid_input', /colour must look like #1f77b4/);
  });

  it('reorders classes (every class once), and undoes the order', async () => {
    for (const name of ['a', 'b', 'c']) addClass(p.db, name);
    const result = await checkUndoRedo(() => call('classes.reorder', { order: ['c', 'a', 'b'] }));
    expect(result.classes.map((c: any) => [c.name, c.position])).toEqual([
      ['c', 1],
      ['a', 2],
      ['b', 3],
    ]);
    expect((await call('project.status')).classes.map((c: any) => c.name)).toEqual(['c', 'a', 'b']);
    await rejects(call('classes.reorder', { order: ['a', 'b'] }), 'invalid_input', /every class must be listed once; missing "c"/);
    await rejects(call('classes.reorder', { order: ['a', 'b', 'c', 'A'] }), 'invalid_input', /class "a" is listed twice/);
  });

  it('merges one class into another (all its images move, it is removed) and undo recreates it with its images', async () => {
    const cat = addClass(p.db, 'cat', '#111111');
    const kitten = addClass(p.db, 'kitten', '#222222');
    const cats = addImages(p.db, cat, 3);
    const kittens = addImages(p.db, kitten, 2, { split: 'val' });
    const rejected = addImages(p.db, kitten, 1, { status: 'rejected' });
    const merged = await checkUndoRedo(() => call('classes.merge', { from: 'kitten', into: 'cat' }));
    expect(merged).toMatchObject({ moved: 3, class: { id: cat, name: 'cat', count: 5 } });
    expect([...cats, ...kittens, ...rejected].map((id) => classOf(p.db, id))).toEqual(Array(6).fill('cat'));
    expect((await call('classes.list')).classes.map((c: any) => c.name)).toEqual(['cat']);
    await call('edits.undo');
    expect(kittens.map((id) => classOf(p.db, id))).toEqual(['kitten', 'kitten']);
    expect((await call('classes.list')).classes).toEqual([
      { id: cat, name: 'cat', color: '#111111', position: 1, count: 3 },
      { id: kitten, name: 'kitten', color: '#222222', position: 2, count: 2 },
    ]);
    await rejects(call('classes.merge', { from: 'cat', into: 'CAT' }), 'invalid_input', /cannot merge class "cat" into itself/);
    // history says who and how
    const history = (await call('labels.history', { imageId: kittens[0] })).entries;
    expect(history.map((h: any) => [h.fromClass, h.toClass, h.source])).toEqual([
      ['kitten', 'cat', 'merge'],
      ['cat', 'kitten', 'undo'],
      ['kitten', 'cat', 'redo'],
      ['cat', 'kitten', 'undo'],
    ]);
    expect(history[0].who).toBeTruthy();
  });

  it('deletes a class (its images become unlabeled) and undo brings it back with the same id, colour and position', async () => {
    addClass(p.db, 'a');
    const b = addClass(p.db, 'b', '#abcabc');
    addClass(p.db, 'c');
    const images = addImages(p.db, b, 4, { split: 'train' });
    const deleted = await checkUndoRedo(() => call('classes.delete', { class: 'B' }));
    expect(deleted).toMatchObject({ unlabeled: 4, edit: { kind: 'classes.delete', summary: 'delete class "b" (4 images unlabeled)' } });
    expect(images.map((id) => classOf(p.db, id))).toEqual([null, null, null, null]);
    const status = await call('project.status');
    expect(status.unlabeled).toBe(4);
    await call('edits.undo');
    expect((await call('classes.list')).classes.find((c: any) => c.id === b)).toEqual({ id: b, name: 'b', color: '#abcabc', position: 2, count: 4 });
  });

  it('keeps undo and redo in order across several edits, drops the redo branch on a new edit, and lists the journal', async () => {
    await call('classes.create', { name: 'one' });
    await call('classes.create', { name: 'two' });
    await call('classes.rename', { class: 'two', name: 'deux' });
    await call('edits.undo');
    await call('edits.undo');
    let journal = await call('edits.list');
    expect(journal).toMatchObject({ canUndo: true, canRedo: true, undoSummary: 'create class "one"', redoSummary: 'create class "two"' });
    expect(journal.edits.map((e: any) => [e.summary, e.undone])).toEqual([
      ['rename class "two" to "deux"', true],
      ['create class "two"', true],
      ['create class "one"', false],
    ]);
    await call('classes.create', { name: 'three' });
    journal = await call('edits.list');
    expect(journal.canRedo).toBe(false);
    expect(journal.edits.map((e: any) => e.summary)).toEqual(['create class "three"', 'create class "one"']);
    expect((await call('edits.redo')).edit).toBeNull();
    await call('edits.undo');
    await call('edits.undo');
    expect((await call('edits.undo')).edit).toBeNull();
    expect((await call('classes.list')).classes).toEqual([]);
  });

  it('refuses to undo a class delete when a folder import has taken its name or its id since', async () => {
    addClass(p.db, 'dog');
    const id = addClass(p.db, 'cat');
    await call('classes.delete', { class: id });
    const taker = addClass(p.db, 'Cat'); // SQLite gives the freed id to the next class
    expect(taker).toBe(id);
    await rejects(call('edits.undo'), 'already_exists', /cannot undo delete class "cat": class "cat" cannot get its id 2 back, class "Cat" has it now/);
    p.db.prepare('UPDATE classes SET id = 9 WHERE id = ?').run(taker);
    await rejects(call('edits.undo'), 'already_exists', /cannot undo delete class "cat": another class is named "Cat" now; rename it first/);
    expect((await call('edits.list')).canUndo).toBe(true);
  });

  it('emits project.changed after every change', async () => {
    const seen: string[] = [];
    p.service.onEvent((event) => seen.push(event));
    await call('classes.create', { name: 'x' });
    await call('edits.undo');
    await call('classes.list');
    expect(seen).toEqual(['project.changed', 'project.changed']);
  });

  it('refuses to undo a class create when a folder import has labeled images with it since', async () => {
    const created = await call('classes.create', { name: 'cat' });
    addImages(p.db, created.class.id, 2);
    await rejects(call('edits.undo'), 'invalid_input', /cannot undo create class "cat": 2 image\(s\) of "cat" were labeled outside this edit since/);
    expect((await call('classes.list')).classes.map((c: any) => c.name)).toEqual(['cat']);
  });
});

describe('schema step 3 -> 4', () => {
  it('gives existing classes their id as position, and classes created later without one the last position', () => {
    const file = path.join(p.dir, 'old.effitune');
    const old = openDatabase(file, { create: true, migrations: migrations.slice(0, 3) });
    old.prepare(`INSERT INTO meta (key, value) VALUES ('name', 'old')`).run();
    for (const [id, name] of [[5, 'b'], [2, 'a']] as const) old.prepare('INSERT INTO classes (id, name, color) VALUES (?, ?, ?)').run(id, name, '#000000');
    old.close();
    const db = openDatabase(file, { create: false });
    db.prepare('INSERT INTO classes (name, color) VALUES (?, ?)').run('c', '#000000');
    expect(db.prepare('SELECT name, position FROM classes ORDER BY position').all()).toEqual([
      { name: 'a', position: 2 },
      { name: 'b', position: 5 },
      { name: 'c', position: 6 },
    ]);
    db.close();
  });
});
