/**
 * CSV files a spreadsheet opens safely: a cell that starts with = + - @, a tab or a carriage return
 * is written with a single quote in front (no formula runs), in the labels export and the
 * predictions CSV alike, and the labels import takes the quote off so our own files round-trip.
 * Class names with control, invisible or text-direction characters are refused, naming the name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { ClassName } from '../../main/contract/calls-labels';
import { formatCsvCell, formatCsvRow, parseCsv, unguardCsvCell } from '../../main/dataset/labels/csv';
import { predictionsCsvText } from '../../main/export/predict/predictions-csv';
import { addImages, classOf, makeLabelsProject, type LabelsProject } from './labels-helpers';

const FORMULAS = ['=cmd|calc!A0', '+1+1', '-2+3', '@SUM(A1:A2)', '\t=1+1', '\r=1+1'];

describe('CSV cells', () => {
  it('puts a quote before every cell a spreadsheet would run as a formula', () => {
    expect(FORMULAS.map(formatCsvCell)).toEqual(["'=cmd|calc!A0", "'+1+1", "'-2+3", "'@SUM(A1:A2)", "'\t=1+1", `"'\r=1+1"`]);
    // harmless cells stay as they were
    expect(['cat', '/data/a.jpg', '0.500000', "it's", "'quoted", ''].map(formatCsvCell)).toEqual(['cat', '/data/a.jpg', '0.500000', "it's", "'quoted", '']);
    // a formula that would hide behind a comma-quoted field is guarded inside the quotes
    expect(formatCsvCell('=A1,B1')).toBe(`"'=A1,B1"`);
  });

  it('reads back exactly what it writes, also values that start with quotes before =', () => {
    const values = [...FORMULAS, "'=already quoted", "''@two", "'plain", 'cat', 'x,y'];
    const [record] = parseCsv(formatCsvRow(values));
    expect(record.fields.map(unguardCsvCell)).toEqual(values);
    // a hand-written file without our guard reads as it is
    expect(unguardCsvCell('=cmd|calc!A0')).toBe('=cmd|calc!A0');
    expect(unguardCsvCell("'not a guard")).toBe("'not a guard");
  });
});

describe('CSV writers', () => {
  let p: LabelsProject;
  beforeEach(() => {
    p = makeLabelsProject('csv-cells');
  });
  afterEach(() => p.close());
  const call = (name: string, input: Record<string, unknown> = {}) => p.service.call(name as never, { project: p.file, ...input }) as Promise<any>;

  it('labels.export guards formula class names, and labels.import of that file restores them', async () => {
    const ids = addImages(p.db, null, 2, { folder: 'csv' });
    const evil = (await call('classes.create', { name: '=cmd|calc!A0' })).class.id;
    const at = (await call('classes.create', { name: '@SUM(1+1)' })).class.id;
    await call('labels.set', { imageIds: [ids[0]], class: evil });
    await call('labels.set', { imageIds: [ids[1]], class: at });
    const file = path.join(p.dir, 'labels.csv');
    await call('labels.export', { file });
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines[1]).toMatch(/,'=cmd\|calc!A0,/);
    expect(lines[2]).toMatch(/,'@SUM\(1\+1\),/);
    expect(lines.every((line) => !/(^|,)[=+\-@]/.test(line))).toBe(true);

    await call('labels.set', { imageIds: ids, class: null });
    const result = await call('labels.import', { file, createClasses: false });
    expect(result).toMatchObject({ labeled: 2, errors: [], unknown: [] });
    expect([classOf(p.db, ids[0]), classOf(p.db, ids[1])]).toEqual(['=cmd|calc!A0', '@SUM(1+1)']);
  });

  it('the predictions CSV guards class names, paths and errors the same way', () => {
    const text = predictionsCsvText(
      [
        { path: '/data/a.jpg', top: [{ className: '=HYPERLINK("http://x","y")', probability: 0.75 }], error: null },
        { path: '-rf.jpg', top: [], error: '@error' },
      ],
      1,
    );
    expect(text).toBe(`path,top1,probability1,error\n/data/a.jpg,"'=HYPERLINK(""http://x"",""y"")",0.750000,\n'-rf.jpg,,,'@error\n`);
  });
});

describe('class names', () => {
  let p: LabelsProject;
  beforeEach(() => {
    p = makeLabelsProject('class-names');
  });
  afterEach(() => p.close());
  const call = (name: string, input: Record<string, unknown> = {}) => p.service.call(name as never, { project: p.file, ...input }) as Promise<any>;

  async function refusal(promise: Promise<unknown>): Promise<ApiError> {
    const err = await promise.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('invalid_input');
    return err as ApiError;
  }

  it('refuses bidi overrides, isolates, marks and other invisible or control characters, naming the name', async () => {
    for (const [name, code] of [
      ['invoice\u202Egpj.exe', 'U+202E'],
      ['a\u202Ab', 'U+202A'],
      ['x\u2066y\u2069', 'U+2066'],
      ['left\u200Fright', 'U+200F'],
      ['l\u200Er', 'U+200E'],
      ['zero\u200Bwidth', 'U+200B'],
      ['soft\u00ADhyphen', 'U+00AD'],
      ['bom\uFEFFinside', 'U+FEFF'],
    ]) {
      const err = await refusal(call('classes.create', { name }));
      const visible = name.replace(/[^\x20-\x7e]/gu, (ch) => `<U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`);
      expect(err.message).toContain(`class name "${visible}" must not contain invisible or text-direction characters`);
      expect(err.message).toContain(code);
      // the message itself carries no invisible character
      expect(/[\u200B-\u200F\u202A-\u202E\u2066-\u2069\u00AD\uFEFF]/.test(err.message)).toBe(false);
    }
    expect((await refusal(call('classes.create', { name: 'c1\u0085control' }))).message).toMatch(/control characters .*"c1<U\+0085>control" has U\+0085/);
    const cat = (await call('classes.create', { name: 'cat' })).class.id;
    expect((await refusal(call('classes.rename', { class: cat, name: 'cat\u202E' + 'god' }))).message).toContain('"cat<U+202E>god"');
  });

  it('keeps names of any language, with the joiners Persian and emoji need, and formula-like names', () => {
    for (const name of ['می\u200Cخواهم', 'क्\u200Dष', '👨\u200D👩\u200D👧', 'Chât', '=cmd|calc!A0', 'שלום']) expect(ClassName.safeParse(name).success).toBe(true);
  });

  it('labels.import reports a bidi class name on its line, shown with the character spelled out', async () => {
    const [id] = addImages(p.db, null, 1, { folder: 'bidi' });
    const imagePath = p.db.prepare('SELECT path FROM images WHERE id = ?').pluck().get(id) as string;
    const file = path.join(p.dir, 'bidi.csv');
    fs.writeFileSync(file, `path,class\n${imagePath},evil\u202Egnp.exe\n`);
    const result = await call('labels.import', { file });
    expect(result.labeled).toBe(0);
    expect(result.errors).toEqual([{ line: 2, message: expect.stringMatching(/^line 2: class name "evil<U\+202E>gnp\.exe" must not contain invisible or text-direction characters/) }]);
  });
});
