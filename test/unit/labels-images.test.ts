/**
 * Labels of images through the service: set and clear on a selection (by hand or accepting a model
 * suggestion), exclude/include, hand moves between splits that a re-split keeps, the test-split lock,
 * warnings for classes too small to train on — each with its undo and redo, and the per-image history.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { splitProject } from '../../main/dataset/split';
import { checkTrainable } from '../../main/train/data/trainable';
import { createDataPipeline } from '../../main/train/data/pipeline';
import { labeledImages } from '../../main/train/features';
import { currentUser } from '../../main/dataset/labels/who';
import { addClass, addImages, classOf, makeLabelsProject, snapshot, type LabelsProject } from './labels-helpers';

let p: LabelsProject;
beforeEach(() => {
  p = makeLabelsProject('labels-images');
});
afterEach(() => p.close());

const call = (name: string, input: Record<string, unknown> = {}) => p.service.call(name as never, { project: p.file, ...input }) as Promise<any>;

async function checkUndoRedo(edit: () => Promise<unknown>): Promise<any> {
  const before = snapshot(p.db);
  const result = await edit();
  const after = snapshot(p.db);
  expect(after).not.toEqual(before);
  await call('edits.undo');
  expect(snapshot(p.db)).toEqual(before);
  await call('edits.redo');
  expect(snapshot(p.db)).toEqual(after);
  return result;
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).code).toBe(code);
  expect((err as ApiError).message).toMatch(message);
}

function row(id: number): any {
  return p.db.prepare('SELECT class_id, label_source, labeled_at, labeled_by, split, split_source, excluded FROM images WHERE id = ?').get(id);
}

describe('labels.set', () => {
  it('labels a selection, changing only images whose class differs, with who/when/source; undo restores each row exactly', async () => {
    const cat = addClass(p.db, 'cat');
    const dog = addClass(p.db, 'dog');
    const cats = addImages(p.db, cat, 2);
    const loose = addImages(p.db, null, 3);
    const result = await checkUndoRedo(() => call('labels.set', { imageIds: [...cats, ...loose, loose[0]], class: 'dog' }));
    expect(result).toMatchObject({ changed: 5, edit: { kind: 'labels.set', summary: 'label 5 images as "dog"' } });
    expect(row(loose[0])).toMatchObject({ class_id: dog, label_source: 'user', labeled_by: currentUser() });
    expect(Date.parse(row(loose[0]).labeled_at)).toBeGreaterThan(Date.now() - 60_000);
    await call('edits.undo');
    expect(row(cats[0])).toMatchObject({ class_id: cat, label_source: 'folder', labeled_by: null });
    expect(row(loose[0])).toMatchObject({ class_id: null, label_source: null, labeled_at: null });
    // nothing to change: no edit
    await call('labels.set', { imageIds: cats, class: cat });
    expect((await call('labels.set', { imageIds: cats, class: cat })).edit).toBeNull();
  });

  it('clears labels (class null) and undoes that', async () => {
    const cat = addClass(p.db, 'cat');
    const ids = addImages(p.db, cat, 3);
    const result = await checkUndoRedo(() => call('labels.set', { imageIds: ids.slice(0, 2), class: null }));
    expect(result).toMatchObject({ changed: 2, edit: { summary: 'unlabel 2 images' } });
    expect(ids.map((id) => classOf(p.db, id))).toEqual([null, null, 'cat']);
    expect((await call('project.status')).unlabeled).toBe(2);
  });

  it("records an accepted model suggestion as the run's", async () => {
    addClass(p.db, 'cat');
    const [id] = addImages(p.db, null, 1);
    const result = await call('labels.set', { imageIds: [id], class: 'cat', source: 'model', runId: 7 });
    expect(result.edit.summary).toBe('accept the suggestion "cat" for 1 image (run 7)');
    expect(row(id)).toMatchObject({ labeled_by: 'run 7', label_source: 'user' });
    expect((await call('labels.history', { imageId: id })).entries).toEqual([{ at: expect.any(String), fromClass: null, toClass: 'cat', source: 'model', who: 'run 7' }]);
    await rejects(call('labels.set', { imageIds: [id], class: 'cat', runId: 7 }), 'invalid_input', /runId: only a model suggestion/);
  });

  it('creates a class named by the CLI in the same edit (one undo removes both)', async () => {
    const ids = addImages(p.db, null, 2);
    const result = await checkUndoRedo(() => call('labels.set', { imageIds: ids, class: 'Vogel', createClass: true }));
    expect(result.changed).toBe(2);
    await call('edits.undo');
    expect((await call('classes.list')).classes).toEqual([]);
    await rejects(call('labels.set', { imageIds: ids, class: 'Vogel' }), 'not_found', /no class "Vogel"/);
  });

  it('names unknown image ids', async () => {
    addClass(p.db, 'cat');
    const [id] = addImages(p.db, null, 1);
    await rejects(call('labels.set', { imageIds: [id, 999, 1000], class: 'cat' }), 'not_found', /imageIds: there is no image with id 999, 1000 in this project/);
    await rejects(call('labels.set', { imageIds: [], class: 'cat' }), 'invalid_input', /select at least one image/);
    expect(classOf(p.db, id)).toBeNull();
  });

  it('keeps a 10,000-image edit compact in the journal and undoes it exactly', async () => {
    const cat = addClass(p.db, 'cat');
    const ids = p.db.transaction(() => [...addImages(p.db, cat, 5000), ...addImages(p.db, null, 5000)])();
    await checkUndoRedo(() => call('labels.set', { imageIds: ids, class: null }));
    const sizes = p.db.prepare('SELECT length(redo) + length(undo) FROM edits').pluck().get() as number;
    expect(sizes).toBeLessThan(200_000); // ids plus a few distinct states, not 10,000 objects
  });
});

describe('labels.exclude', () => {
  it('excludes images from status counts, the split and training, lists them on request, and undoes it', async () => {
    const cat = addClass(p.db, 'cat');
    const dog = addClass(p.db, 'dog');
    const cats = addImages(p.db, cat, 4);
    addImages(p.db, dog, 4);
    const result = await checkUndoRedo(() => call('labels.exclude', { imageIds: cats.slice(0, 2), excluded: true }));
    expect(result).toMatchObject({ changed: 2, edit: { summary: 'exclude 2 images from training' } });
    const status = await call('project.status');
    expect(status).toMatchObject({ images: 6, labeled: 6, excluded: 2 });
    expect(status.classes.map((c: any) => [c.name, c.count])).toEqual([
      ['cat', 2],
      ['dog', 4],
    ]);
    const listed = await call('images.list', { filter: { excluded: true } });
    expect(listed.items.map((i: any) => [i.id, i.excluded])).toEqual([
      [cats[0], true],
      [cats[1], true],
    ]);
    expect((await call('images.list', { filter: { excluded: false } })).total).toBe(6);
    expect((await call('images.list', {})).total).toBe(8);

    const split = splitProject(p.handle, { val: 0, test: 0 });
    expect(split.totals.images).toBe(6);
    expect(row(cats[0]).split).toBeNull();
    expect(checkTrainable(p.handle).classes.map((c) => [c.name, c.train])).toEqual([
      ['cat', 2],
      ['dog', 4],
    ]);
    // the trainer never picks them (the rows' files do not exist, so every image it picks is listed as skipped)
    p.db.prepare(`UPDATE images SET split = 'train'`).run();
    expect(createDataPipeline(p.handle, { split: 'train', resolution: 32, batchSize: 4 }).skipped.map((s) => s.id)).toEqual(expect.not.arrayContaining(cats.slice(0, 2)));
    expect(createDataPipeline(p.handle, { split: 'train', resolution: 32, batchSize: 4 }).skipped).toHaveLength(6);
    expect(labeledImages(p.db, ['cat', 'dog']).skipped).toHaveLength(6);
    expect(labeledImages(p.db, ['cat', 'dog']).skipped.map((s) => s.id)).toEqual(expect.not.arrayContaining(cats.slice(0, 2)));
    const included = await call('labels.exclude', { imageIds: cats, excluded: false });
    expect(included).toMatchObject({ changed: 2, edit: { summary: 'include 2 images in training again' } });
  });
});

describe('splits by hand', () => {
  it('moves images between splits; a re-split keeps them there; undo restores the split and its source', async () => {
    const cat = addClass(p.db, 'cat');
    const ids = addImages(p.db, cat, 10);
    splitProject(p.handle, { val: 0.2, test: 0.2, seed: 1 });
    const inTrain = ids.filter((id) => row(id).split === 'train').slice(0, 2);
    const result = await checkUndoRedo(() => call('split.move', { imageIds: inTrain, split: 'val' }));
    expect(result).toMatchObject({ changed: 2, edit: { kind: 'split.move', summary: 'move 2 images to validation' } });
    expect(row(inTrain[0])).toMatchObject({ split: 'val', split_source: 'user' });
    splitProject(p.handle, { seed: 99, reshuffle: true });
    expect(inTrain.map((id) => row(id).split)).toEqual(['val', 'val']);
    // the class still has its target counts: the hand-moved images count towards validation
    expect((await call('split.get')).classes[0]).toMatchObject({ train: 6, val: 2, test: 2 });
    // null hands them back to the automatic split
    await call('split.move', { imageIds: inTrain, split: null });
    expect(row(inTrain[0])).toMatchObject({ split: null, split_source: null });
  });

  it('locks the test split: hand moves into or out of test and resetTest are refused; new images do not enter test', async () => {
    const cat = addClass(p.db, 'cat');
    const ids = addImages(p.db, cat, 10);
    splitProject(p.handle, { val: 0.2, test: 0.2 });
    expect(await call('split.lock', { locked: true })).toEqual({ locked: true });
    expect((await call('split.get')).locked).toBe(true);
    const test = ids.filter((id) => row(id).split === 'test');
    const train = ids.filter((id) => row(id).split === 'train');
    await rejects(call('split.move', { imageIds: test.slice(0, 1), split: 'train' }), 'invalid_input', /cannot move 1 image\(s\) out of the test split: the test split is locked/);
    await rejects(call('split.move', { imageIds: train.slice(0, 1), split: 'test' }), 'invalid_input', /into the test split: the test split is locked/);
    await rejects(call('split.run', { resetTest: true }), 'invalid_input', /resetTest: cannot deal the test split again: the test split is locked/);
    // moves that do not touch test still work
    expect((await call('split.move', { imageIds: train.slice(0, 1), split: 'val' })).changed).toBe(1);
    const fresh = addImages(p.db, cat, 10);
    await call('split.run', {});
    expect(fresh.filter((id) => row(id).split === 'test')).toEqual([]);
    await call('split.lock', { locked: false });
    expect((await call('split.run', { resetTest: true })).testReset).toBe(true);
  });

  it('warns about classes too small to train on', async () => {
    addClass(p.db, 'empty');
    addImages(p.db, addClass(p.db, 'single'), 1);
    const few = addClass(p.db, 'few');
    const fewIds = addImages(p.db, few, 2);
    addImages(p.db, addClass(p.db, 'fine'), 10);
    // before any split: one sentence for the project, plus the classes too small whatever the split
    expect((await call('split.get')).warnings).toEqual([
      'no labeled image is split yet: split the project (train / validation / test) before training',
      'class "empty" has no images: a class needs at least 2 to train on (one to learn from, one to check)',
      'class "single" has only 1 image: a class needs at least 2 to train on (one to learn from, one to check)',
    ]);
    splitProject(p.handle, {});
    await call('split.move', { imageIds: fewIds, split: 'val' });
    const { warnings } = await call('split.get');
    expect(warnings).toEqual([
      'class "empty" has no images: a class needs at least 2 to train on (one to learn from, one to check)',
      'class "few" has no image in the train split: move some images to train or split again',
      'class "single" has only 1 image: a class needs at least 2 to train on (one to learn from, one to check)',
    ]);
  });
});
