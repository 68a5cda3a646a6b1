import type { Command } from '../command';
import { EXIT } from '../exit-codes';
import { numberOrText } from '../numbers';
import { resolvePathArg } from '../paths';

export const predictCommand: Command = {
  words: ['predict'],
  args: ['model-dir', 'image-or-folder...'],
  optionsUsage: '[--top K] [--csv FILE]',
  summary: 'Classify image files with an exported model (TF.js or ONNX) or a run\'s model folder',
  details: [
    '<model-dir>        an export folder (model.json or model.onnx with labels.json) or <project>.d/runs/<id>/model',
    '<image-or-folder>  image files, or folders searched recursively for images (.jpg .png .webp .gif .tif .avif)',
    '                   Images are prepared as training evaluates them: EXIF-rotated, transparency on white,',
    '                   shorter side resized to the model size (Lanczos3), centre square cropped.',
    '--top K            classes per image (default 5)',
    '--csv FILE         also write path,top1,probability1,top2,probability2,...,error per image',
    'A file that cannot be read is reported with its error and the others are still classified;',
    'the exit code is 2 when no image at all could be classified.',
  ],
  options: { top: { type: 'string' }, csv: { type: 'string' } },
  fields: { modelDir: '<model-dir>', paths: '<image-or-folder>', top: '--top', csv: '--csv' },
  async run({ positionals: [modelDir, ...paths], values, service }) {
    const result = await service().call('predict.files', {
      modelDir: resolvePathArg(modelDir),
      paths: paths.map((p) => resolvePathArg(p)),
      top: numberOrText(values.top),
      csv: resolvePathArg(values.csv as string | undefined),
    });
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
    lines.push(`(${predicted} image${predicted === 1 ? '' : 's'} classified${failed > 0 ? `, ${failed} not` : ''}; ${result.format} model, ${result.resolution} px, ${result.imagesPerSecond.toFixed(1)} images/s${result.csv ? `; CSV: ${result.csv}` : ''})`);
    return { json: result, text: lines.join('\n'), exitCode: predicted === 0 ? EXIT.notFound : EXIT.ok };
  },
};
