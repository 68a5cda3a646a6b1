import type { Command } from '../command';
import { EXIT } from '../exit-codes';
import { numberOrText } from '../numbers';
import { resolvePathArg } from '../paths';
import { fromFlags } from '../user-input';

export const predictCommand: Command = {
  words: ['predict'],
  args: ['model-dir', 'image-or-folder...'],
  optionsUsage: '[--top K] [--csv FILE [--force]] [--provider NAME]',
  summary: 'Classify image files with an exported model (TF.js or ONNX) or a run\'s model folder',
  details: [
    '<model-dir>        an export folder (model.json or model.onnx with labels.json) or <project>.d/runs/<id>/model',
    '<image-or-folder>  image files, or folders searched recursively for images (.jpg .png .webp .gif .tif .avif)',
    '                   Images are prepared as training evaluates them: EXIF-rotated, transparency on white,',
    '                   shorter side resized to the model size (Lanczos3), centre square cropped.',
    '--top K            classes per image (default 5)',
    '--csv FILE         also write path,top1,probability1,top2,probability2,...,error per image',
    '--force            replace the --csv file if it exists (a plain file only; it is written whole or not at all)',
    '--provider NAME    ONNX Runtime execution provider: cuda, dml, coreml, webgpu or cpu (default: the best that loads here)',
    'TF.js folders are converted to ONNX once (cached in the data folder) and run on ONNX Runtime like ONNX exports.',
    'A file that cannot be read is reported with its error and the others are still classified;',
    'the exit code is 2 when no image at all could be classified.',
  ],
  options: { top: { type: 'string' }, csv: { type: 'string' }, force: { type: 'boolean' }, provider: { type: 'string' } },
  fields: { modelDir: '<model-dir>', paths: '<image-or-folder>', top: '--top', csv: '--csv', force: '--force', provider: '--provider' },
  async run({ positionals: [modelDir, ...paths], values, client }) {
    const result = await client().call('predict.files', fromFlags({
      modelDir: resolvePathArg(modelDir),
      paths: paths.map((p) => resolvePathArg(p)),
      top: numberOrText(values.top),
      csv: resolvePathArg(values.csv as string | undefined),
      force: values.force === true,
      provider: values.provider,
    }));
    const lines: string[] = [];
    let predicted = 0;
    for (const p of result.predictions) {
      if (p.error !== null) {
        lines.push(`${p.path}\n  error: ${p.error}`);
        continue;
      }
      predicted++;
      lines.push(p.path);
      const width = Math.max(...p.top.map((t) => t.className.length));
      for (const t of p.top) lines.push(`  ${t.className.padEnd(width)}  ${(100 * t.probability).toFixed(2).padStart(6)} %`);
    }
    const failed = result.predictions.length - predicted;
    lines.push(`(${predicted} image${predicted === 1 ? '' : 's'} classified${failed > 0 ? `, ${failed} not` : ''}; ${result.format} model, ${result.resolution} px, on ${result.ranOn}, ${result.imagesPerSecond.toFixed(1)} images/s${result.csv ? `; CSV: ${result.csv}` : ''})`);
    return { json: result, text: lines.join('\n'), exitCode: predicted === 0 ? EXIT.notFound : EXIT.ok };
  },
};
