import { ApiError } from '../../contract/contract';
import type { BackendName } from '../../contract/calls-backend';
import type { ProviderName } from '../../contract/calls-inference';
import type { Command } from '../command';
import { numberOrText } from '../numbers';
import { resolvePathArg } from '../paths';

export const inferCommand: Command = {
  words: ['infer'],
  args: ['model-dir', 'image...?'],
  optionsUsage: '[--npy FILE] [--top K] [--provider NAME] [--backend NAME]',
  summary: 'Class probabilities of a TF.js model folder for image files or an .npy of pixels',
  details: [
    '<image>...       image files, prepared as training evaluates them: EXIF-rotated, transparency on white, sRGB,',
    '                 shorter side resized to the model size (Lanczos3), centre square cropped',
    '--npy FILE       instead of images: a float32 array (N, H, W, 3) of RGB pixels 0..255, H×W the model\'s size',
    '--top K          classes listed per input (default 5); --json always has every probability',
    '--provider NAME  ONNX Runtime execution provider: cuda, dml, coreml, webgpu or cpu (default: the best that loads here)',
    '--backend NAME   run on TF.js instead: cpu, wasm, webgpu, tfjs-node or tfjs-node-gpu (effitune doctor says which load here)',
    'The folder is converted to ONNX once (cached in the data folder under onnx-cache/) and run on ONNX Runtime.',
    'Labels come from labels.json beside model.json (an array of class names), else class indices.',
  ],
  options: { npy: { type: 'string' }, top: { type: 'string' }, backend: { type: 'string' }, provider: { type: 'string' } },
  fields: { model: '<model-dir>', npy: '--npy', images: '<image>', top: '--top', backend: '--backend', provider: '--provider' },
  async run({ positionals: [modelDir, ...images], values, client }) {
    if (values.npy !== undefined && images.length > 0) throw new ApiError('invalid_input', 'give either image files or --npy FILE, not both');
    if (values.npy === undefined && images.length === 0) throw new ApiError('invalid_input', 'nothing to classify: give image files or --npy FILE');
    const result = await client().call('models.predict', {
      model: resolvePathArg(modelDir) as string,
      npy: resolvePathArg(values.npy as string | undefined),
      images: images.length > 0 ? images.map((f) => resolvePathArg(f) as string) : undefined,
      top: numberOrText(values.top) as number | undefined,
      backend: values.backend as BackendName | undefined,
      provider: values.provider as ProviderName | undefined,
    });
    const lines: string[] = [];
    for (const p of result.predictions) {
      lines.push(p.source);
      const width = Math.max(...p.top.map((t) => t.label.length));
      for (const t of p.top) lines.push(`  ${t.label.padEnd(width)}  ${(100 * t.probability).toFixed(2).padStart(6)} %`);
    }
    for (const w of result.warnings) lines.push(`warning: ${w}`);
    lines.push(`(${result.predictions.length} input${result.predictions.length === 1 ? '' : 's'}, ${result.model.width}×${result.model.height} px, on ${result.backend}, ${result.elapsedSeconds.toFixed(2)} s)`);
    return { json: result, text: lines.join('\n') };
  },
};
