#!/usr/bin/env node
/**
 * The app's icons, all made from the one source image resources/icon.svg (rendered with sharp):
 *   resources/icon.png            1024 px, the image electron-builder falls back to
 *   resources/icons/NxN.png       the Linux icon set (16 ... 1024), linux.icon in electron-builder.yml
 *   resources/icon.ico            Windows: PNG entries 16 ... 256 in an ICO container
 *   resources/icon.icns           macOS: PNG entries ic07 ... ic14 (128 ... 1024, with the @2x sizes)
 * The containers are written here (a header and the PNGs) rather than by a tool that would be
 * downloaded at packaging time. Each size is rendered from the vector source, not scaled down
 * from the largest, so small icons stay sharp.
 *
 *   node scripts/make-icons.mjs [--out DIR]     (default: resources/)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE = path.join(repoRoot, 'resources', 'icon.svg');

/** The Linux icon set (hicolor sizes). */
export const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
/** Windows shows 16 (lists), 24, 32 (desktop small), 48 (desktop), 64, 128 and 256 (large views). */
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
/** macOS PNG icon types (OS X 10.7+) and their pixel sizes: 16@2x, 32@2x, 128, 128@2x, 256, 256@2x, 512, 512@2x. */
export const ICNS_TYPES = [
  ['ic11', 32],
  ['ic12', 64],
  ['ic07', 128],
  ['ic13', 256],
  ['ic08', 256],
  ['ic14', 512],
  ['ic09', 512],
  ['ic10', 1024],
];

/** The source rendered at `size` px square (the SVG is 1024 units; sharp's density is dots per inch at 72 units/inch). */
export function renderPng(svg, size) {
  return sharp(svg, { density: (72 * size) / 1024 })
    .resize(size, size, { fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .png({ compressionLevel: 9, adaptiveFiltering: true })
    .toBuffer();
}

/**
 * An ICO file of PNG images: ICONDIR (reserved 0, type 1, count), one 16-byte ICONDIRENTRY per
 * image (width and height, 0 meaning 256; planes 1; 32 bits per pixel; byte size; offset), then the PNGs.
 */
export function icoFromPngs(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, i) => {
    if (size > 256) throw new Error(`an ICO entry is at most 256 px, not ${size}`);
    const entry = 6 + 16 * i;
    header.writeUInt8(size === 256 ? 0 : size, entry);
    header.writeUInt8(size === 256 ? 0 : size, entry + 1);
    header.writeUInt8(0, entry + 2); // no palette
    header.writeUInt8(0, entry + 3);
    header.writeUInt16LE(1, entry + 4); // colour planes
    header.writeUInt16LE(32, entry + 6); // bits per pixel
    header.writeUInt32LE(png.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((image) => image.png)]);
}

/** An ICNS file: "icns" and the total length (big-endian), then per image its 4-letter type, length (with this 8-byte header) and PNG. */
export function icnsFromPngs(images) {
  const chunks = images.map(({ type, png }) => {
    if (!/^[a-z0-9]{4}$/.test(type)) throw new Error(`"${type}" is not an ICNS type`);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(8 + png.length, 4);
    return Buffer.concat([head, png]);
  });
  const header = Buffer.alloc(8);
  header.write('icns', 0, 'ascii');
  header.writeUInt32BE(8 + chunks.reduce((sum, chunk) => sum + chunk.length, 0), 4);
  return Buffer.concat([header, ...chunks]);
}

/** Writes every icon into `outDir`; returns the files written. */
export async function makeIcons({ source = SOURCE, outDir = path.join(repoRoot, 'resources') } = {}) {
  const svg = fs.readFileSync(source);
  const sizes = [...new Set([...PNG_SIZES, ...ICO_SIZES, ...ICNS_TYPES.map(([, size]) => size)])];
  const pngs = new Map(await Promise.all(sizes.map(async (size) => [size, await renderPng(svg, size)])));
  const written = [];
  const write = (file, data) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    written.push(file);
  };
  write(path.join(outDir, 'icon.png'), pngs.get(1024));
  for (const size of PNG_SIZES) write(path.join(outDir, 'icons', `${size}x${size}.png`), pngs.get(size));
  write(path.join(outDir, 'icon.ico'), icoFromPngs(ICO_SIZES.map((size) => ({ size, png: pngs.get(size) }))));
  write(path.join(outDir, 'icon.icns'), icnsFromPngs(ICNS_TYPES.map(([type, size]) => ({ type, png: pngs.get(size) }))));
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true });
    const written = await makeIcons(values.out ? { outDir: path.resolve(values.out) } : {});
    for (const file of written) console.log(path.relative(process.cwd(), file) || file);
  } catch (err) {
    console.error(`make-icons: ${err.message}`);
    process.exit(1);
  }
}
