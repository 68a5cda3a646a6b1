/**
 * Labels in and out of files: the CSV reader's edge cases (quotes, commas and line breaks inside
 * quotes, BOM, CRLF, unclosed quote), importing CSV and JSON (paths absolute or relative to an
 * imported folder, hashes, unknown paths and classes, bad and duplicate rows, empty file, missing
 * header) as one undoable edit, export to CSV/JSON that imports back, and export as class folders.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { formatCsvRow, parseCsv } from '../../main/dataset/labels/csv';
import { addClass, addImages, classOf, makeLabelsProject, snapshot, type LabelsProject } from './labels-helpers';

let p: LabelsProject;
beforeEach(() => {
  p = makeLabelsProject('labels-files');
});
afterEach(() => p.close());

const call = (name: string, input: Record<string, unknown> = {}) => p.service.call(name as never, { project: p.file, ...input }) as Promise<any>;

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).code).toBe(code);
  expect((err as ApiError).message).toMatch(message);
}

function write(name: string, text: string): string {
  const file = path.join(p.dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF, a BOM, and skips blank lines', () => {
    const text = '\uFEFFpath,class\r\n"/a,b/x.jpg","say ""hi"""\r\n\r\n"/multi\nline.jpg",cat\n/plain.jpg,\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['path', 'class'] },
      { line: 2, fields: ['/a,b/x.jpg', 'say "hi"'] },
      { line: 4, fields: ['/multi\nline.jpg', 'cat'] },
      { line: 6, fields: ['/plain.jpg', ''] },
    ]);
    expect(parseCsv('a,b')).toEqual([{ line: 1, fields: ['a', 'b'] }]);
    expect(parseCsv('')).toEqual([]);
  });

  it('names the line of a quote that is never closed', () => {
    expect(() => parseCsv('path,class\n"/x.jpg,cat\n')).toThrow(/line 2: a quoted field is never closed/);
  });

  it('quotes only the fields that need it, and reads back what it writes', () => {
    const fields = ['/a b/c.jpg', 'x,y', 'he said "no"', 'two\nlines', ' padded', ''];
    const line = formatCsvRow(fields);
    expect(line).toBe('/a b/c.jpg,"x,y","he said ""no""","two\nlines"," padded",');
    expect(parseCsv(line)[0].fields).toEqual(fields);
  });
});

describe('labels.import', () => {
  let cat: number;
  let ids: number[];
  beforeEach(() => {
    p.db.prepare('INSERT INTO sources (folder) VALUES (?)').run('/data');
    cat = addClass(p.db, 'cat');
    ids = addImages(p.db, null, 4, { folder: 'f' });
  });
  const pathOf = (id: number) => p.db.prepare('SELECT path FROM images WHERE id = ?').pluck().get(id) as string;
  const hashOf = (id: number) => p.db.prepare('SELECT hash FROM images WHERE id = ?').pluck().get(id) as string;

  it('labels from CSV by absolute path, path relative to an imported folder, and hash; creates classes; reports unknown paths with their line; one undo', async () => {
    const rel = path.relative('/data', pathOf(ids[1]));
    const file = write(
      'labels.csv',
      `\uFEFFPath,Class\r\n${pathOf(ids[0])},CAT\r\n${rel},"Hund, groß"\r\n/nowhere/x.jpg,cat\r\n\r\n${pathOf(ids[3])},Maus\r\n`,
    );
    const csvHash = write('by-hash.csv', `hash,class\n${hashOf(ids[2])},cat\n`);
    const before = snapshot(p.db);
    const result = await call('labels.import', { file });
    expect(result).toMatchObject({ rows: 4, labeled: 3, unchanged: 0, createdClasses: ['Hund, groß', 'Maus'], unknown: [{ line: 4, key: '/nowhere/x.jpg' }], errors: [] });
    expect(result.edit.summary).toBe('import 3 labels from labels.csv (2 new classes)');
    expect([classOf(p.db, ids[0]), classOf(p.db, ids[1]), classOf(p.db, ids[3])]).toEqual(['cat', 'Hund, groß', 'Maus']);
    expect((await call('classes.list')).classes.map((c: any) => [c.name, c.position])).toEqual([
      ['cat', 1],
      ['Hund, groß', 2],
      ['Maus', 3],
    ]);
    expect((await call('labels.history', { imageId: ids[0] })).entries[0]).toMatchObject({ toClass: 'cat', source: 'csv' });
    expect((await call('labels.import', { file: csvHash })).labeled).toBe(1);
    expect(classOf(p.db, ids[2])).toBe('cat');
    await call('edits.undo');
    await call('edits.undo');
    expect(snapshot(p.db)).toEqual(before);
  });

  it('reports bad rows, conflicting duplicate rows and unknown classes (when not creating them) with their line, not fatal', async () => {
    addClass(p.db, 'dog');
    const a = pathOf(ids[0]);
    const b = pathOf(ids[1]);
    const file = write('labels.csv', `path,class\n${a},cat\n${a},cat\n${a},dog\n,cat\n${b}\n${b},bad/name\n${pathOf(ids[2])},newclass\n${pathOf(ids[3])},\n`);
    const result = await call('labels.import', { file, createClasses: false });
    expect(result.rows).toBe(8);
    expect(result.labeled).toBe(1);
    expect(result.unchanged).toBe(1); // ids[3]: cleared, and it had no label
    expect(result.errors.map((e: any) => e.line)).toEqual([4, 5, 6, 7, 8]);
    expect(result.errors[0].message).toBe('line 4: this image is already on line 2 with class "cat"; the first line is kept');
    expect(result.errors[1].message).toMatch(/line 5: no path in column 1/);
    expect(result.errors[2].message).toMatch(/line 6: no class column \(column 2\)/);
    expect(result.errors[3].message).toMatch(/line 7: class "bad\/name": .*slashes/);
    expect(result.errors[4].message).toBe('line 8: there is no class "newclass" (creating classes is off)');
    expect(classOf(p.db, ids[0])).toBe('cat');
  });

  it('clears labels with an empty class', async () => {
    await call('labels.set', { imageIds: ids, class: cat });
    const result = await call('labels.import', { file: write('clear.csv', `path,class\n${pathOf(ids[0])},\n`) });
    expect(result.labeled).toBe(1);
    expect(classOf(p.db, ids[0])).toBeNull();
  });

  it('refuses an empty file, a missing header, a missing file and an unknown extension, naming the file', async () => {
    await rejects(call('labels.import', { file: write('empty.csv', '\uFEFF\n\n') }), 'invalid_input', /empty\.csv is empty: a label file starts with a header row such as "path,class"/);
    await rejects(call('labels.import', { file: write('nohead.csv', '/data/f/x.jpg,cat\n') }), 'invalid_input', /nohead\.csv: the first line must be a header naming the columns, e\.g\. "path,class" or "hash,class"; it is "\/data\/f\/x\.jpg,cat"/);
    await rejects(call('labels.import', { file: path.join(p.dir, 'none.csv') }), 'not_found', /file: .*none\.csv does not exist/);
    await rejects(call('labels.import', { file: write('labels.txt', 'path,class\n') }), 'invalid_input', /cannot tell the format of .*labels\.txt from its extension "\.txt"/);
    await rejects(call('labels.import', { file: write('bad.json', '{"path": ') }), 'invalid_input', /bad\.json is not valid JSON/);
    await rejects(call('labels.import', { file: write('obj.json', '{}') }), 'invalid_input', /expected a JSON array/);
  });

  it('reads JSON entries by path or hash, reporting bad entries by their position', async () => {
    const file = write(
      'labels.json',
      JSON.stringify([{ path: pathOf(ids[0]), class: 'cat' }, { hash: hashOf(ids[1]), class: 'dog' }, { class: 'cat' }, { path: pathOf(ids[2]), class: 3 }, { path: '/nowhere.jpg', class: 'cat' }]),
    );
    const result = await call('labels.import', { file });
    expect(result).toMatchObject({ rows: 5, labeled: 2, createdClasses: ['dog'], unknown: [{ line: 5, key: '/nowhere.jpg' }] });
    expect(result.errors.map((e: any) => e.message)).toEqual(['entry 3: needs a "path" or a "hash"', 'entry 4: "class" must be a string (or null to clear the label)']);
    expect((await call('labels.history', { imageId: ids[1] })).entries[0].source).toBe('json');
  });
});

describe('labels.export and labels.exportFolders', () => {
  it('writes CSV and JSON that import back, and refuses to overwrite without force', async () => {
    const cat = addClass(p.db, 'cat, the "big" one');
    const ids = addImages(p.db, cat, 3, { split: 'train' });
    addImages(p.db, null, 2);
    await call('labels.exclude', { imageIds: [ids[2]], excluded: true });
    const csv = path.join(p.dir, 'out.csv');
    expect(await call('labels.export', { file: csv })).toEqual({ file: csv, rows: 2 });
    const text = fs.readFileSync(csv, 'utf8');
    expect(text.split('\n')[0]).toBe('path,hash,class,split');
    expect(text).toContain(',"cat, the ""big"" one",train');
    await rejects(call('labels.export', { file: csv }), 'already_exists', /out\.csv already exists/);
    const json = path.join(p.dir, 'out.json');
    await call('labels.export', { file: json });
    expect(JSON.parse(fs.readFileSync(json, 'utf8'))[0]).toMatchObject({ class: 'cat, the "big" one', split: 'train' });

    await call('labels.set', { imageIds: ids.slice(0, 2), class: null });
    const back = await call('labels.import', { file: csv });
    expect(back).toMatchObject({ rows: 2, labeled: 2, createdClasses: [], errors: [], unknown: [] });
    expect(classOf(p.db, ids[0])).toBe('cat, the "big" one');
  });

  it('exports class folders as copies or links, per split on request, resolving name clashes and skipping missing files', async () => {
    const src = path.join(p.dir, 'src');
    fs.mkdirSync(path.join(src, 'a'), { recursive: true });
    fs.mkdirSync(path.join(src, 'b'), { recursive: true });
    for (const f of ['a/x.jpg', 'b/x.jpg', 'a/y.jpg']) fs.writeFileSync(path.join(src, f), f);
    const cat = addClass(p.db, 'cat');
    const dog = addClass(p.db, 'dog');
    const insert = p.db.prepare(`INSERT INTO images (path, bytes, hash, status, class_id, split, imported_at) VALUES (?, 1, ?, 'ok', ?, ?, 'now')`);
    insert.run(path.join(src, 'a/x.jpg'), 'h1', cat, 'train');
    insert.run(path.join(src, 'b/x.jpg'), 'h2', cat, 'val');
    insert.run(path.join(src, 'a/y.jpg'), 'h3', dog, null);
    insert.run(path.join(src, 'gone.jpg'), 'h4', dog, 'train');

    const out = path.join(p.dir, 'export');
    const copied = await call('labels.exportFolders', { out });
    expect(copied).toEqual({ dir: out, images: 3, classes: 2, skipped: [{ path: path.join(src, 'gone.jpg'), reason: 'the file no longer exists' }] });
    expect(fs.readdirSync(path.join(out, 'cat')).sort()).toEqual(['x-2.jpg', 'x.jpg']);
    expect(fs.readFileSync(path.join(out, 'cat', 'x-2.jpg'), 'utf8')).toBe('b/x.jpg');
    await rejects(call('labels.exportFolders', { out }), 'already_exists', /export is not empty \(2 entries\)/);

    const linked = path.join(p.dir, 'linked');
    await call('labels.exportFolders', { out: linked, mode: 'link', bySplit: true });
    expect(fs.readlinkSync(path.join(linked, 'train', 'cat', 'x.jpg'))).toBe(path.join(src, 'a/x.jpg'));
    expect(fs.existsSync(path.join(linked, 'unsplit', 'dog', 'y.jpg'))).toBe(true);
    expect(fs.existsSync(path.join(linked, 'val', 'cat', 'x.jpg'))).toBe(true);
  });
});
