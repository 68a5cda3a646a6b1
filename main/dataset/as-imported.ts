/**
 * Reading an imported image for decoding: the file once, and its bytes only if they are still the
 * format the import recorded (inspect-image.ts), as the detail view checks (media.ts). A JPEG
 * swapped for an SVG since the import is refused with both named, never handed to a decoder;
 * training skips it, evaluation and assist list it as skipped. `file` is what opens the image
 * (file-name-bytes.ts imageFsPath: raw bytes for a name that is not UTF-8).
 */
import fs from 'node:fs';
import type { FsPath } from './file-name-bytes';
import { FORMAT_NAMES, sniffFormat, type ImageFormat } from './inspect-image';

export class ChangedSinceImport extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChangedSinceImport';
  }
}

/** A format in words, also for what the import does not accept (SVG, HEIC, unknown bytes). */
export function formatWords(format: string | undefined): string {
  if (format === 'svg') return 'SVG vector graphics';
  if (format === 'heic') return 'HEIC';
  if (format === undefined) return 'not an image format we know';
  return FORMAT_NAMES[format as ImageFormat] ?? format;
}

/** The file's bytes if they are still `format` (null: nothing recorded, e.g. rows from before it was: no check). */
export async function readAsImported(file: FsPath, format: string | null | undefined): Promise<Buffer> {
  const bytes = await fs.promises.readFile(file);
  if (format === null || format === undefined) return bytes;
  const now = sniffFormat(bytes);
  if (now !== format) throw new ChangedSinceImport(`it has changed since the import: it was imported as ${formatWords(format)} and the file is now ${formatWords(now)}; import its folder again`);
  return bytes;
}
