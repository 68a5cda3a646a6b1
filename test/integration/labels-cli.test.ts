/**
 * The labeling commands as a user types them: `effitune label` (--image by path or id, --class,
 * --unlabel, --csv with unknown paths reported), `effitune classes` (list, add, rename, recolor,
 * merge, delete with --yes, reorder), `effitune undo|redo|edits`, `effitune labels export` and
 * `labels export-folders`, and `effitune status` listing every class with its count. Most run
 * in-process (the same runner as bin/effitune.mjs); one run goes through the real binary.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importFolder } from '../../main/dataset/import-folder';
import { ProjectRegistry } from '../../main/project/registry';
import { effitune, onlyJson as json, runInProcess } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';

const SLOW = 120_000;

let tmp: string;
let project: string;
let images: string;

/** In-process runs: the same runner as bin/effitune.mjs, EFFITUNE_HOME from process.env. */
const cli = (...argv: string[]) => runInProcess(argv);

const homeBefore = process.env.EFFITUNE_HOME;
beforeAll(async () => {
  tmp = makeTempDir('labels-cli');
  process.env.EFFITUNE_HOME = path.join(tmp, 'home');
  images = path.join(tmp, 'images');
  fs.mkdirSync(path.join(images, 'cats'), { recursive: true });
  fs.mkdirSync(path.join(images, 'loose'), { recursive: true });
  for (let i = 0; i < 3; i++) await sharp({ create: { width: 16 + i, height: 12, channels: 3, background: '#c08040' } }).png().toFile(path.join(images, 'cats', `${i}.png`));
  for (let i = 0; i < 4; i++) await sharp({ create: { width: 20 + i, height: 12, channels: 3, background: '#4080c0' } }).png().toFile(path.join(images, 'loose', `${i}.png`));
  project = path.join(tmp, 'pets.effitune');
  const registry = new ProjectRegistry(path.join(tmp, 'home'));
  registry.create(project);
  // only cats/ is a class folder: loose/ is imported without labels
  await importFolder(registry.get(project), { folder: path.join(images, 'cats'), labelsFromFolders: false, jobId: 'a' });
  await importFolder(registry.get(project), { folder: path.join(images, 'loose'), labelsFromFolders: false, jobId: 'b' });
  registry.get(project).db.prepare(`INSERT INTO classes (name, color) VALUES ('cats', '#c08040')`).run();
  registry.get(project).db.prepare(`UPDATE images SET class_id = 1, label_source = 'folder' WHERE path LIKE ?`).run(`${path.join(images, 'cats')}%`);
  registry.closeAll();
}, SLOW);

afterAll(() => {
  if (homeBefore === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = homeBefore;
  removeDir(tmp);
});

describe('effitune label, classes, undo', () => {
  test('labels by path and id, creating the class; clears; undo and redo', { timeout: SLOW }, async () => {
    const loose0 = path.join(images, 'loose', '0.png');
    const first = await cli('label', project, '--image', loose0, '--image', path.join(images, 'loose', '1.png'), '--class', 'dogs', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(json(first)).toMatchObject({ changed: 2, class: 'dogs', edit: { summary: 'label 2 images as "dogs"' } });

    const status = json(await cli('status', project, '--json'));
    expect(status.classes.map((c: any) => [c.name, c.count])).toEqual([
      ['cats', 3],
      ['dogs', 2],
    ]);
    const text = await cli('status', project);
    expect(text.stdout).toMatch(/cats\s+3/);
    expect(text.stdout).toMatch(/dogs\s+2/);

    const id = json(first).imageIds[0];
    const cleared = await cli('label', project, '--image', String(id), '--class', '', '--json');
    expect(json(cleared)).toMatchObject({ changed: 1, class: null });
    expect((await cli('label', project, '--image', String(id), '--unlabel')).stdout).toMatch(/Nothing to change: 1 image already unlabeled/);

    const undo = await cli('undo', project);
    expect(undo.code).toBe(0);
    expect(undo.stdout).toBe('Undone: unlabel 1 image\n');
    expect(json(await cli('redo', project, '--json')).edit.summary).toBe('unlabel 1 image');
    const edits = json(await cli('edits', project, '--json'));
    expect(edits.edits.map((e: any) => e.summary)).toEqual(['unlabel 1 image', 'label 2 images as "dogs"']);

    const unknown = await cli('label', project, '--image', path.join(images, 'nope.png'), '--class', 'dogs', '--json');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--image: no image of this project has the path .*nope\.png/);
    const noClass = await cli('label', project, '--image', loose0);
    expect(noClass.code).toBe(1);
    expect(noClass.stderr).toMatch(/--class: give the class/);
  });

  test('labels from a CSV: unknown paths reported with their line, not fatal; one undo takes it all back', { timeout: SLOW }, async () => {
    const csv = path.join(tmp, 'labels.csv');
    // 3.png is only in loose/ (relative to that imported folder); 1.png is in both folders
    fs.writeFileSync(csv, `path,class\n3.png,birds\n${path.join(images, 'loose', '2.png')},birds\n/elsewhere/x.png,cats\n1.png,birds\n`);
    const run = await cli('label', project, '--csv', csv, '--json');
    expect(run.code, run.stderr).toBe(0);
    const result = json(run);
    expect(result).toMatchObject({ rows: 4, labeled: 2, createdClasses: ['birds'], unknown: [{ line: 4, key: '/elsewhere/x.png' }] });
    expect(result.errors).toEqual([{ line: 5, message: `line 5: 1.png is in several imported folders (${path.join(images, 'cats')}, ${path.join(images, 'loose')}); give the full path` }]);
    const readable = await cli('undo', project);
    expect(readable.stdout).toMatch(/Undone: import 2 labels from labels\.csv \(1 new class\)/);
    await cli('redo', project);
    const text = await cli('label', project, '--csv', csv);
    expect(text.stdout).toMatch(/0 images labeled from 4 rows \(2 already so\)/);
    expect(text.stdout).toMatch(/1 row could not be used:\n    line 5: 1\.png is in several imported folders/);
    expect(text.stdout).toMatch(/line 4: \/elsewhere\/x\.png/);
    const missing = await cli('label', project, '--csv', path.join(tmp, 'none.csv'), '--json');
    expect(missing.code).toBe(2);
    expect(json(missing).error.message).toMatch(/file: .*none\.csv does not exist/);
  });

  test('classes: list, add, rename, recolor, reorder, merge, delete with --yes', { timeout: SLOW }, async () => {
    expect(json(await cli('classes', project, 'add', 'Fische', '--color', '#00ff00', '--json')).class).toMatchObject({ name: 'Fische', color: '#00ff00', count: 0 });
    const dup = await cli('classes', project, 'add', 'fische', '--json');
    expect(dup.code).toBe(3);
    expect(json(dup).error.message).toMatch(/already a class named "fische" \("Fische"/);
    expect(json(await cli('classes', project, 'rename', 'Fische', 'fish', '--json')).class.name).toBe('fish');
    expect(json(await cli('classes', project, 'recolor', 'fish', '#0000FF', '--json')).class.color).toBe('#0000ff');
    const list = await cli('classes', project);
    expect(list.stdout).toMatch(/1\s+cats\s+3\s+#c08040/);
    expect(json(await cli('classes', project, 'reorder', 'fish', 'birds', 'dogs', 'cats', '--json')).classes.map((c: any) => c.name)).toEqual(['fish', 'birds', 'dogs', 'cats']);

    const merged = json(await cli('classes', project, 'merge', 'birds', 'dogs', '--json'));
    // dogs: loose/1.png (loose/0.png was unlabeled again above), plus the two birds
    expect(merged).toMatchObject({ moved: 2, class: { name: 'dogs', count: 3 } });
    const refused = await cli('classes', project, 'delete', 'dogs');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/class "dogs" has 3 images, which would become unlabeled; run again with --yes/);
    expect(json(await cli('classes', project, 'delete', 'dogs', '--yes', '--json'))).toMatchObject({ unlabeled: 3 });
    expect(json(await cli('classes', project, 'delete', 'fish', '--json'))).toMatchObject({ unlabeled: 0 });
    await cli('undo', project);
    await cli('undo', project);
    expect(json(await cli('classes', project, 'list', '--json')).classes.map((c: any) => [c.name, c.count])).toEqual([
      ['fish', 0],
      ['dogs', 3],
      ['cats', 3],
    ]);
    const bad = await cli('classes', project, 'merge', 'dogs');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/classes merge takes <from> <into>/);
    expect((await cli('classes', project, 'paint')).stderr).toMatch(/unknown classes action "paint"; known: list, add/);
  });

  test('exports labels to CSV and as class folders', { timeout: SLOW }, async () => {
    const out = path.join(tmp, 'export.csv');
    expect(json(await cli('labels', 'export', project, '--out', out, '--json'))).toEqual({ file: out, rows: 6 });
    expect(fs.readFileSync(out, 'utf8').split('\n')[0]).toBe('path,hash,class,split');
    expect((await cli('labels', 'export', project, '--out', out)).stderr).toMatch(/file: .*export\.csv already exists; choose another name or overwrite it \(force\)/);
    const dir = path.join(tmp, 'folders');
    const folders = json(await cli('labels', 'export-folders', project, '--out', dir, '--link', '--json'));
    expect(folders).toMatchObject({ images: 6, classes: 2, skipped: [] });
    expect(fs.readdirSync(dir).sort()).toEqual(['cats', 'dogs']);
  });

  test('the real binary prints one JSON object', { timeout: SLOW }, async () => {
    const run = await effitune(['classes', project, '--json'], { cwd: tmp });
    expect(run.code, run.stderr).toBe(0);
    expect(json(run).classes.map((c: any) => c.name)).toEqual(['fish', 'dogs', 'cats']);
  });
});
