/**
 * The text form of file names that are not UTF-8 (\xHH for each byte outside a valid sequence, \\ for
 * a backslash), its inverse, the Python spelling (surrogateescape) and paths built from readdir's bytes.
 */
import { describe, expect, it } from 'vitest';
import {
  childPath,
  fsPathFromPythonText,
  imageFsPath,
  nameBytes,
  nameText,
  pathBytesForMessage,
  pathBytesFromMessage,
  pythonPathText,
  rootPath,
  shownPath,
} from '../../main/dataset/file-name-bytes';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('nameText', () => {
  it('leaves UTF-8 names as they are, backslashes included', () => {
    for (const name of ['café.png', 'a\\xE9.png', '猫 1.jpg', '\u{1F600}.webp', 'x\uFFFD.png']) expect(nameText(Buffer.from(name))).toBe(name);
  });

  it('writes each byte outside a valid UTF-8 sequence as \\xHH, and backslashes doubled, only in such names', () => {
    expect(nameText(bytes('caf', [0xe9], '.png'))).toBe('caf\\xE9.png');
    expect(nameText(bytes([0xff, 0xfe], 'x.JPG'))).toBe('\\xFF\\xFEx.JPG');
    expect(nameText(bytes('a\\b', [0x80], 'é'))).toBe('a\\\\b\\x80é');
    // overlong "/" (C0 AF), a UTF-16 surrogate in UTF-8 (ED A0 80), above U+10FFFF (F4 90 80 80), a cut-off sequence
    expect(nameText(bytes([0xc0, 0xaf]))).toBe('\\xC0\\xAF');
    expect(nameText(bytes([0xed, 0xa0, 0x80]))).toBe('\\xED\\xA0\\x80');
    expect(nameText(bytes([0xf4, 0x90, 0x80, 0x80]))).toBe('\\xF4\\x90\\x80\\x80');
    expect(nameText(bytes('é', [0xe2, 0x82]))).toBe('é\\xE2\\x82');
  });

  it('is reversed by nameBytes, and different bytes never read the same', () => {
    const names = [bytes('caf', [0xe9], '.png'), bytes('caf', [0xc3], '.png'), bytes('a\\', [0xff]), bytes('a\\\\', [0xff]), bytes('\\xE9', [0xe9]), bytes([0xed, 0xa0, 0x80], 'é')];
    const texts = names.map(nameText);
    expect(new Set(texts).size).toBe(names.length);
    names.forEach((name, i) => expect(nameBytes(texts[i]).equals(name)).toBe(true));
  });
});

describe('paths of names read as bytes', () => {
  it('keeps a text path while every name is UTF-8, and the raw bytes from the first that is not', () => {
    const root = rootPath('/data/images');
    const cats = childPath(root, Buffer.from('cats'));
    expect(cats).toEqual({ text: '/data/images/cats', fs: '/data/images/cats' });
    const odd = childPath(cats, bytes('d', [0xf6], 'gs'));
    expect(odd.text).toBe('/data/images/cats/d\\xF6gs');
    expect(Buffer.isBuffer(odd.fs) && odd.fs.equals(bytes('/data/images/cats/d', [0xf6], 'gs'))).toBe(true);
    const inside = childPath(odd, Buffer.from('a.png'));
    expect(inside.text).toBe('/data/images/cats/d\\xF6gs/a.png');
    expect(shownPath(inside.fs)).toBe(inside.text);
    expect(childPath(rootPath('/'), bytes([0xe9])).fs).toEqual(bytes('/', [0xe9]));
  });

  it('opens a stored image by its bytes when it has them, else by its path; bytes travel in messages as base64', () => {
    const raw = bytes('/x/caf', [0xe9], '.png');
    expect(imageFsPath({ path: '/x/caf\\xE9.png', pathBytes: raw })).toBe(raw);
    expect(imageFsPath({ path: '/x/a.png', pathBytes: null })).toBe('/x/a.png');
    expect(pathBytesFromMessage(pathBytesForMessage(raw))!.equals(raw)).toBe(true);
    expect(pathBytesForMessage(null)).toBeUndefined();
  });

  it('spells the bytes as Python does (surrogateescape), and reads that back', () => {
    const raw = bytes('cats/caf', [0xe9], '.png');
    const text = pythonPathText(raw);
    expect(text).toBe('cats/caf\udce9.png');
    expect(JSON.stringify(text)).toBe('"cats/caf\\udce9.png"');
    expect(fsPathFromPythonText(text)).toEqual(raw);
    expect(fsPathFromPythonText('cats/café.png')).toBe('cats/café.png');
  });
});
