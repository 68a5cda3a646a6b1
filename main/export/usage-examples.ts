/**
 * The usage examples of an export, written with it: a Node script, a browser page and (for ONNX) a
 * Python script, each preparing pixels as Effitune does (first frame, EXIF orientation, transparency
 * on white, shorter side to the resolution, centre crop, RGB 0..255) and printing the top classes.
 * The texts avoid template literals so they can live in this file as plain strings; __RESOLUTION__
 * is replaced by the model's size.
 */
import type { ExportFormat } from '../contract/calls-export';

export interface UsageExample {
  /** relative to the export folder */
  path: string;
  text: string;
}

const PREPARE_SHARP = `async function pixels(file) {
  const { data } = await sharp(file, { pages: 1 })
    .autoOrient()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(RESOLUTION, RESOLUTION, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Float32Array.from(data);
}

function printTop(file, probabilities) {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b] - probabilities[a] || a - b).slice(0, 3);
  console.log(file + ': ' + order.map((i) => labels[i] + ' ' + probabilities[i].toFixed(4)).join(', '));
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node examples/node.mjs <image> [<image> ...]');
  process.exit(1);
}
`;

const NODE_TFJS = `// Classify images with this TF.js export in Node.
//   npm install @tensorflow/tfjs sharp
//   node examples/node.mjs photo.jpg [more.jpg ...]
// Pixels are prepared as Effitune prepares them: first frame, EXIF orientation applied, transparency
// on white, sRGB, shorter side resized to __RESOLUTION__ px (Lanczos3), centre square cropped, RGB 0..255.
// The normalisation is inside the model; the output is softmax probabilities in labels.json order.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';

const RESOLUTION = __RESOLUTION__;
const exportDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const labels = JSON.parse(fs.readFileSync(path.join(exportDir, 'labels.json'), 'utf8'));

async function loadModel() {
  // the same files a browser fetches with tf.loadLayersModel('model.json'), read from the disk
  const json = JSON.parse(fs.readFileSync(path.join(exportDir, 'model.json'), 'utf8'));
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const shards = Buffer.concat(json.weightsManifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(exportDir, p)))));
  const weightData = shards.buffer.slice(shards.byteOffset, shards.byteOffset + shards.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}

${PREPARE_SHARP}
await tf.setBackend('cpu');
const model = await loadModel();
for (const file of files) {
  const input = tf.tensor4d(await pixels(file), [1, RESOLUTION, RESOLUTION, 3]);
  const output = model.predict(input);
  printTop(file, await output.data());
  tf.dispose([input, output]);
}
`;

const NODE_ONNX = `// Classify images with this ONNX export in Node.
//   npm install onnxruntime-node sharp
//   node examples/node.mjs photo.jpg [more.jpg ...]
// Pixels are prepared as Effitune prepares them: first frame, EXIF orientation applied, transparency
// on white, sRGB, shorter side resized to __RESOLUTION__ px (Lanczos3), centre square cropped, RGB 0..255,
// NHWC. The normalisation is inside the model; the output is softmax probabilities in labels.json order.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

const RESOLUTION = __RESOLUTION__;
const exportDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const labels = JSON.parse(fs.readFileSync(path.join(exportDir, 'labels.json'), 'utf8'));

${PREPARE_SHARP}
const session = await ort.InferenceSession.create(path.join(exportDir, 'model.onnx'));
for (const file of files) {
  const input = new ort.Tensor('float32', await pixels(file), [1, RESOLUTION, RESOLUTION, 3]);
  const output = await session.run({ [session.inputNames[0]]: input });
  printTop(file, output[session.outputNames[0]].data);
}
`;

const BROWSER_PREPARE = `    // shorter side to RESOLUTION, centre crop, transparency on white (browsers apply EXIF orientation)
    function pixels(image) {
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = RESOLUTION;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.fillStyle = '#ffffff';
      context.fillRect(0, 0, RESOLUTION, RESOLUTION);
      const scale = RESOLUTION / Math.min(image.naturalWidth, image.naturalHeight);
      const width = image.naturalWidth * scale;
      const height = image.naturalHeight * scale;
      context.imageSmoothingEnabled = true;
      context.imageSmoothingQuality = 'high';
      context.drawImage(image, (RESOLUTION - width) / 2, (RESOLUTION - height) / 2, width, height);
      const rgba = context.getImageData(0, 0, RESOLUTION, RESOLUTION).data;
      const rgb = new Float32Array(RESOLUTION * RESOLUTION * 3);
      for (let i = 0, j = 0; i < rgba.length; i += 4) {
        rgb[j++] = rgba[i];
        rgb[j++] = rgba[i + 1];
        rgb[j++] = rgba[i + 2];
      }
      return rgb;
    }

    function loadImage(file) {
      return new Promise((resolve, reject) => {
        const image = new Image();
        image.onload = () => resolve(image);
        image.onerror = () => reject(new Error('cannot read ' + file.name));
        image.src = URL.createObjectURL(file);
      });
    }

    function show(name, probabilities) {
      const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b] - probabilities[a] || a - b).slice(0, 3);
      out.textContent += name + ': ' + order.map((i) => labels[i] + ' ' + (100 * probabilities[i]).toFixed(1) + ' %').join(', ') + '\\n';
    }
`;

function browserPage(format: ExportFormat): string {
  const runtime =
    format === 'tfjs'
      ? '<script src="https://cdn.jsdelivr.net/npm/@tensorflow/tfjs@4.22.0/dist/tf.min.js"></script>'
      : '<script src="https://cdn.jsdelivr.net/npm/onnxruntime-web@1.20.1/dist/ort.min.js"></script>';
  const load =
    format === 'tfjs'
      ? `    const model = await tf.loadLayersModel('../model.json');
    async function predict(rgb) {
      const input = tf.tensor4d(rgb, [1, RESOLUTION, RESOLUTION, 3]);
      const output = model.predict(input);
      const probabilities = await output.data();
      tf.dispose([input, output]);
      return probabilities;
    }`
      : `    const session = await ort.InferenceSession.create('../model.onnx');
    async function predict(rgb) {
      const output = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', rgb, [1, RESOLUTION, RESOLUTION, 3]) });
      return output[session.outputNames[0]].data;
    }`;
  return `<!doctype html>
<!-- Classify images in the browser with this ${format === 'tfjs' ? 'TF.js' : 'ONNX'} export.
     Serve the export folder over HTTP (a page opened from file:// may not fetch the model), e.g.
       npx http-server <export folder>    or    python3 -m http.server --directory <export folder>
     then open http://localhost:8080/examples/browser.html (8000 with Python) and pick images. -->
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Effitune model</title>
  ${runtime}
</head>
<body>
  <p><input type="file" id="files" accept="image/*" multiple></p>
  <pre id="out">Loading the model…</pre>
  <script type="module">
    const RESOLUTION = __RESOLUTION__;
    const out = document.getElementById('out');
    const labels = await (await fetch('../labels.json')).json();
${load}
    out.textContent = 'Model loaded: pick images.\\n';
${BROWSER_PREPARE}
    document.getElementById('files').addEventListener('change', async (event) => {
      for (const file of event.target.files) {
        try {
          show(file.name, await predict(pixels(await loadImage(file))));
        } catch (err) {
          out.textContent += file.name + ': ' + err.message + '\\n';
        }
      }
    });
  </script>
</body>
</html>
`;
}

const PYTHON_ONNX = `"""Classify images with this ONNX export in Python.

    pip install onnxruntime pillow numpy
    python examples/predict.py photo.jpg [more.jpg ...]

Pixels are prepared as Effitune prepares them: first frame, EXIF orientation applied, transparency on
white, RGB, shorter side resized to __RESOLUTION__ px (Lanczos), centre square cropped, RGB 0..255, NHWC.
The normalisation is inside the model; the output is softmax probabilities in labels.json order.
(Pillow's Lanczos differs from libvips' in the last bits, so probabilities can differ slightly from the app's.)
"""
import json
import pathlib
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

RESOLUTION = __RESOLUTION__
EXPORT_DIR = pathlib.Path(__file__).resolve().parent.parent
labels = json.loads((EXPORT_DIR / "labels.json").read_text(encoding="utf-8"))
session = ort.InferenceSession(str(EXPORT_DIR / "model.onnx"), providers=["CPUExecutionProvider"])


def pixels(path):
    image = Image.open(path)
    image.seek(0)
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    image = image.convert("RGB")
    width, height = image.size
    scale = RESOLUTION / min(width, height)
    size = (max(RESOLUTION, round(width * scale)), max(RESOLUTION, round(height * scale)))
    image = image.resize(size, Image.LANCZOS)
    left = (size[0] - RESOLUTION) // 2
    top = (size[1] - RESOLUTION) // 2
    image = image.crop((left, top, left + RESOLUTION, top + RESOLUTION))
    return np.asarray(image, dtype=np.float32)[None]


if len(sys.argv) < 2:
    sys.exit("usage: python examples/predict.py <image> [<image> ...]")
input_name = session.get_inputs()[0].name
for file in sys.argv[1:]:
    probabilities = session.run(None, {input_name: pixels(file)})[0][0]
    top = np.argsort(-probabilities, kind="stable")[:3]
    print(file + ": " + ", ".join(f"{labels[i]} {probabilities[i]:.4f}" for i in top))
`;

export function usageExamples(format: ExportFormat, resolution: number): UsageExample[] {
  const fill = (text: string) => text.replaceAll('__RESOLUTION__', String(resolution));
  const examples: UsageExample[] = [
    { path: 'examples/node.mjs', text: fill(format === 'tfjs' ? NODE_TFJS : NODE_ONNX) },
    { path: 'examples/browser.html', text: fill(browserPage(format)) },
  ];
  if (format === 'onnx') examples.push({ path: 'examples/predict.py', text: fill(PYTHON_ONNX) });
  return examples;
}
