/**
 * A small labeled data set of generated shapes, so a newcomer sees the app working with no data of
 * their own. Each class is a sub-folder; every image varies colours, size, position, rotation and
 * background, with a little noise, and alternates JPEG and PNG. The same seed gives the same files.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export const SAMPLE_CLASSES = ['circle', 'square', 'triangle', 'star'] as const;
export type SampleShape = (typeof SAMPLE_CLASSES)[number];
const IMAGE_SIZE = 128;
/** images rendered at once: sharp works on its own thread pool */
const PARALLEL = 8;

export interface SampleFolder {
  folder: string;
  classes: string[];
  files: string[];
}

export async function generateSampleFolder(folder: string, imagesPerClass: number, seed = 1): Promise<SampleFolder> {
  const random = mulberry32(seed);
  const jobs: { file: string; svg: string; format: 'jpeg' | 'png' }[] = [];
  for (const shape of SAMPLE_CLASSES) {
    fs.mkdirSync(path.join(folder, shape), { recursive: true });
    for (let i = 0; i < imagesPerClass; i++) {
      const format = i % 2 === 0 ? 'jpeg' : 'png';
      const file = path.join(folder, shape, `${shape}-${String(i + 1).padStart(3, '0')}.${format === 'jpeg' ? 'jpg' : 'png'}`);
      jobs.push({ file, svg: shapeSvg(shape, random, IMAGE_SIZE), format });
    }
  }
  for (let i = 0; i < jobs.length; i += PARALLEL) {
    await Promise.all(
      jobs.slice(i, i + PARALLEL).map(({ file, svg, format }) => {
        const image = sharp(Buffer.from(svg)).flatten({ background: '#ffffff' });
        return (format === 'jpeg' ? image.jpeg({ quality: 85 }) : image.png()).toFile(file);
      }),
    );
  }
  return { folder, classes: [...SAMPLE_CLASSES], files: jobs.map((j) => j.file) };
}

/** One image as SVG: a background, one shape, and fractal noise over it. */
export function shapeSvg(shape: SampleShape, random: () => number, size: number): string {
  const hue = Math.floor(random() * 360);
  const dark = random() < 0.5;
  const background = `hsl(${(hue + 90 + Math.floor(random() * 180)) % 360}, ${20 + Math.floor(random() * 40)}%, ${dark ? 12 + Math.floor(random() * 20) : 70 + Math.floor(random() * 20)}%)`;
  const fill = `hsl(${hue}, ${60 + Math.floor(random() * 40)}%, ${dark ? 55 + Math.floor(random() * 25) : 25 + Math.floor(random() * 25)}%)`;
  const radius = size * (0.18 + random() * 0.22);
  const margin = radius + 2;
  const cx = margin + random() * (size - 2 * margin);
  const cy = margin + random() * (size - 2 * margin);
  const angle = random() * 360;
  const noiseSeed = Math.floor(random() * 10_000);
  const noiseOpacity = (0.08 + random() * 0.17).toFixed(2);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">
  <defs><filter id="noise"><feTurbulence type="fractalNoise" baseFrequency="0.9" numOctaves="2" seed="${noiseSeed}"/><feColorMatrix type="saturate" values="0"/></filter></defs>
  <rect width="${size}" height="${size}" fill="${background}"/>
  <g transform="rotate(${angle.toFixed(1)} ${cx.toFixed(1)} ${cy.toFixed(1)})" fill="${fill}">${shapeElement(shape, cx, cy, radius)}</g>
  <rect width="${size}" height="${size}" filter="url(#noise)" opacity="${noiseOpacity}"/>
</svg>`;
}

function shapeElement(shape: SampleShape, cx: number, cy: number, r: number): string {
  switch (shape) {
    case 'circle':
      return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r.toFixed(1)}"/>`;
    case 'square': {
      const side = r * Math.SQRT2;
      return `<rect x="${(cx - side / 2).toFixed(1)}" y="${(cy - side / 2).toFixed(1)}" width="${side.toFixed(1)}" height="${side.toFixed(1)}"/>`;
    }
    case 'triangle':
      return polygon(cx, cy, [0, 120, 240].map((deg) => [r, deg]));
    case 'star':
      return polygon(
        cx,
        cy,
        Array.from({ length: 10 }, (_, i) => [i % 2 === 0 ? r : r * 0.45, i * 36]),
      );
  }
}

function polygon(cx: number, cy: number, points: number[][]): string {
  const coords = points.map(([radius, deg]) => {
    const a = ((deg - 90) * Math.PI) / 180;
    return `${(cx + radius * Math.cos(a)).toFixed(1)},${(cy + radius * Math.sin(a)).toFixed(1)}`;
  });
  return `<polygon points="${coords.join(' ')}"/>`;
}

/** A small, fast, seedable PRNG (public domain), so sample sets are reproducible. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
