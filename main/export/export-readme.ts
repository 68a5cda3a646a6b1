/** The README.md of an export folder: what is in it and how to use it from Node, a browser and Python. */
import type { ExportFormat, PrecisionReport, Quantization } from '../contract/calls-export';
import { EVALUATION_RESIZE } from '../dataset/image-pixels';

export function exportReadme(options: { title: string; format: ExportFormat; quantize: Quantization; resolution: number; classes: readonly string[]; modelFiles: readonly string[]; precisions: readonly PrecisionReport[] }): string {
  const { format, resolution } = options;
  const pct = (v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(1)} %`);
  const lines = [
    `# ${options.title}`,
    '',
    `An image classifier exported by Effitune as ${format === 'tfjs' ? 'a TensorFlow.js layers model' : 'an ONNX model (opset 13 or later)'}${options.quantize === 'none' ? '' : ` with ${options.quantize} weights`}.`,
    '',
    '## Files',
    '',
    ...options.modelFiles.map((f) => `- \`${f}\`${f === 'model.json' ? ': topology and weights manifest (the weight shards follow)' : f === 'model.onnx' ? ': the ONNX graph with its weights' : ''}`),
    '- `labels.json`, `labels.txt`: the class names, in the order of the model outputs',
    '- `model-card.md`, `model-card.json`: the model, its data, training, test metrics; `confusion-matrix.svg`',
    '- `examples/`: working usage examples',
    '',
    '## Input and output',
    '',
    `- Input: float32 \`[N, ${resolution}, ${resolution}, 3]\` (NHWC), RGB pixel values 0..255. Do **not** normalise: the normalisation is inside the model.`,
    `- Output: float32 \`[N, ${options.classes.length}]\`, softmax probabilities in the order of \`labels.json\`.`,
    `- To get the app's answers, prepare images as Effitune does: ${EVALUATION_RESIZE}.`,
    '',
    '## Use it',
    '',
    '### Node',
    '',
    '```sh',
    format === 'tfjs' ? 'npm install @tensorflow/tfjs sharp' : 'npm install onnxruntime-node sharp',
    'node examples/node.mjs photo.jpg',
    '```',
    '',
    'The script prepares pixels with sharp exactly as Effitune does, so it prints the app\'s top classes.',
    '',
    '### Browser',
    '',
    'Serve this folder over HTTP and open `examples/browser.html`:',
    '',
    '```sh',
    'npx http-server .        # then open http://localhost:8080/examples/browser.html',
    '```',
    '',
    format === 'tfjs'
      ? 'The page loads TensorFlow.js 4.22 from a CDN and the model with `tf.loadLayersModel(\'../model.json\')`.'
      : 'The page loads onnxruntime-web from a CDN and the model with `ort.InferenceSession.create(\'../model.onnx\')`.',
    'It resizes with the canvas, whose smoothing differs from Lanczos3: probabilities can differ a little from the app\'s.',
    '',
    '### Python',
    '',
  ];
  if (format === 'onnx') {
    lines.push('```sh', 'pip install onnxruntime pillow numpy', 'python examples/predict.py photo.jpg', '```', '', 'Pillow\'s Lanczos resampling differs from libvips\' in the last bits: probabilities can differ slightly from the app\'s.', '');
  } else {
    lines.push('Python needs the ONNX export of this run (`effitune export <project> --run <id> --format onnx --out <dir>`), which runs in onnxruntime; a TF.js layers model has no maintained Python runtime.', '');
  }
  lines.push('## Weight precisions', '', '| Weights | Model size | Test accuracy | Agreement with float32 |', '|---|---:|---:|---:|');
  for (const p of options.precisions) lines.push(`| ${p.quantize === 'none' ? 'float32' : p.quantize} | ${(p.modelBytes / 1024).toFixed(1)} KiB | ${pct(p.testAccuracy)} | ${pct(p.agreement)} |`);
  lines.push('');
  return lines.join('\n');
}
