import type { ExportResult } from '../../contract/calls-export';
import { ApiError } from '../../contract/contract';
import type { Command } from '../command';
import { numberOrText } from '../numbers';
import { resolvePathArg } from '../paths';
import { fromFlags } from '../user-input';
import { formatTable } from '../text-table';

export const exportCommand: Command = {
  words: ['export'],
  args: ['project'],
  optionsUsage: '--run ID --format tfjs|onnx [--quantize float16|uint8] --out DIR [--force]',
  summary: 'Export a finished run as a folder: model (TF.js or ONNX), labels, model card, usage examples',
  details: [
    '--run ID          the completed run to export (see `effitune runs <project>`)',
    '--format F        tfjs: TF.js layers model (model.json + weight shards, loads with tf.loadLayersModel);',
    '                  onnx: model.onnx (opset 13, input "pixels" [N,H,W,3] RGB 0..255, output softmax probabilities)',
    '--quantize Q      float16 or uint8: weights stored in 16 / 8 bits (smaller files); the float32 model is measured',
    '                  too, and both test accuracies are reported (default: float32 weights)',
    '--out DIR         the export folder; it must not exist unless --force (then it is replaced whole)',
    'The folder is written under a temporary name and renamed at the end: a failure leaves nothing behind.',
    'It holds the model, labels.json + labels.txt, model-card.md/.json, confusion-matrix.svg, README.md and',
    'examples/ (node.mjs, browser.html, and predict.py for ONNX). Run it with `effitune predict DIR <images>`.',
  ],
  options: { run: { type: 'string' }, format: { type: 'string' }, quantize: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } },
  fields: { project: '<project>', runId: '--run', format: '--format', quantize: '--quantize', out: '--out' },
  async run({ positionals: [project], values, client, stderr }) {
    if (values.run === undefined) throw new ApiError('invalid_input', '--run ID is required: the run to export (see `effitune runs <project>`)');
    if (values.out === undefined) throw new ApiError('invalid_input', '--out DIR is required: the folder to write the export to');
    const jobId = `export-cli-${process.pid}`;
    const stop = client().on('export.progress', (p) => {
      if (p.jobId === jobId && p.phase !== 'done' && p.phase !== 'failed') stderr.write(`${p.message}...\n`);
    });
    try {
      const result = await client().call('export.run', fromFlags({
        project: resolvePathArg(project),
        runId: numberOrText(values.run),
        format: values.format,
        quantize: values.quantize ?? 'none',
        out: resolvePathArg(values.out as string),
        force: values.force === true,
        jobId,
      }));
      return { json: result, text: formatExport(result) };
    } finally {
      stop();
    }
  },
};

const pct = (v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(1)} %`);

export function formatExport(r: ExportResult): string {
  const lines = [`Exported run ${r.runId} as ${r.format === 'tfjs' ? 'TF.js' : 'ONNX'}${r.quantize === 'none' ? '' : ` (${r.quantize} weights)`} to ${r.dir}${r.replaced ? ' (replaced the old folder)' : ''}`];
  lines.push(`  ${r.files.length} files, ${(r.bytes / 1024).toFixed(1)} KiB, ${r.seconds.toFixed(1)} s`, '');
  lines.push(
    formatTable(
      ['WEIGHTS', 'MODEL SIZE', 'TEST ACCURACY', 'AGREES WITH FLOAT32'],
      r.precisions.map((p) => [p.quantize === 'none' ? 'float32' : p.quantize, `${(p.modelBytes / 1024).toFixed(1)} KiB`, pct(p.testAccuracy), pct(p.agreement)]),
      '  ',
    ),
  );
  if (r.precisions[0]?.testAccuracy === null) lines.push('  (no test images: split off a test set to measure accuracy)');
  if (r.parity) lines.push('', `  Same answers as the app on ${r.parity.images} images: largest probability difference ${r.parity.maxAbsDiff.toExponential(2)}, top-1 ${r.parity.top1Agree ? 'identical' : 'NOT identical'}.`);
  return lines.join('\n');
}
