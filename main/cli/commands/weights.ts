import type { LocalWeights, WeightsProgress } from '../../contract/calls-models';
import { ApiError } from '../../contract/contract';
import type { Command, CommandInput } from '../command';
import { EXIT } from '../exit-codes';
import { numberOrText } from '../numbers';
import { resolvePathArg } from '../paths';
import { formatTable } from '../text-table';
import { formatBytes } from './models';

export const weightsList: Command = {
  words: ['weights', 'list'],
  args: [],
  summary: 'Pretrained weights in the local cache, and the published files that can be downloaded',
  async run({ client }) {
    const result = await client().call('weights.list', {});
    const lines = [`Weights cache: ${result.dir}`, ''];
    if (result.weights.length === 0) lines.push('  No weights yet. effitune weights download <variant> [--notop] fetches a published file; effitune weights import <file> adds one you have.');
    else lines.push(formatWeightsTable(result.weights, '  '));
    const missing = new Map<string, string[]>();
    for (const f of result.catalogue.filter((c) => !c.local)) missing.set(f.variant, [...(missing.get(f.variant) ?? []), f.includeTop ? 'top' : 'notop']);
    const listed = [...missing].map(([variant, kinds]) => `${variant} (${kinds.join(', ')})`).join(', ');
    lines.push('', `Downloadable, not in the cache yet: ${listed || 'none'}`);
    return { json: result, text: lines.join('\n') };
  },
};

export const weightsDownload: Command = {
  words: ['weights', 'download'],
  args: ['variant'],
  optionsUsage: '[--notop]',
  summary: 'Download a published Keras weights file (ImageNet) into the cache: resumable, MD5-checked',
  details: [
    '--notop   the file without the classifier (efficientnetb0_notop.h5), for fine-tuning on your own classes',
    'Variants with published files: b0..b7, v2-b0..v2-b3, v2-s, v2-m, v2-l.',
    'An interrupted download (Ctrl-C, lost connection) resumes where it stopped when run again.',
    'EFFITUNE_WEIGHTS_URL=<base URL> downloads from a mirror holding the same file names (checksums still apply).',
    'Offline? Copy the file from a machine with internet and run: effitune weights import <file>',
  ],
  options: { notop: { type: 'boolean' } },
  fields: { variant: '<variant>' },
  async run({ positionals: [variant], values, client, stderr }) {
    const jobId = `cli-${process.pid}-${Date.now().toString(36)}`;
    const line = new DownloadLine(stderr);
    const stopProgress = client().on('weights.progress', (progress) => {
      if (progress.jobId === jobId) line.update(progress);
    });
    const onInterrupt = () => {
      line.clear();
      stderr.write('Stopping the download; run the same command again to resume.\n');
      client().call('weights.cancel', { jobId }).catch(() => undefined);
    };
    process.on('SIGINT', onInterrupt);
    try {
      const result = await client().call('weights.download', { variant, includeTop: values.notop !== true, jobId });
      const w = result.weights;
      const text = result.alreadyPresent
        ? `Already in the cache: ${w.file} (${formatBytes(w.bytes)}, MD5 ${w.md5})`
        : [
            `Downloaded ${w.file} (${formatBytes(w.bytes)}) in ${result.elapsedSeconds.toFixed(1)} s${result.resumedFrom > 0 ? `, resumed after ${formatBytes(result.resumedFrom)}` : ''}`,
            `  MD5 ${w.md5} matches the published checksum`,
          ].join('\n');
      return { json: result, text };
    } catch (err) {
      if (err instanceof ApiError && err.code === 'cancelled') return { json: { cancelled: true, message: err.message }, text: err.message, exitCode: EXIT.interrupted };
      throw err;
    } finally {
      process.off('SIGINT', onInterrupt);
      stopProgress();
      line.clear();
    }
  },
};

export const weightsImport: Command = {
  words: ['weights', 'import'],
  args: ['file'],
  optionsUsage: '[--model VARIANT] [--out DIR [--classes N] [--resolution N] [--seed N] [--force]] [--timm-model NAME]',
  summary: 'Add a .h5 / .safetensors weights file to the cache, or with --out write it as a TF.js model folder',
  details: [
    '--model VARIANT     the variant the file holds (b0, v2-s, phi=-4, …); default: recognised from its tensors',
    '--timm-model NAME   for .safetensors: the timm architecture (tf_efficientnet_b0, efficientnet_b3.ra2_in1k, …);',
    '                    default: from config.json beside the file, else from the file name',
    'Without --out the file is checked (it must build a complete model) and copied into the weights cache.',
    '--out DIR           instead, build the model and write DIR/model.json + DIR/weights.bin (TF.js layers format)',
    '--classes N         classifier size of the written model; a count other than the file\'s gets a new, untrained head',
    '--resolution N      input size of the written model in pixels (default the variant\'s)',
    '--seed N            seeds the new head, for reproducible output',
    '--force             write into a non-empty --out folder',
    'The model takes RGB pixels 0..255 (NHWC float32); normalisation is inside it.',
  ],
  options: {
    model: { type: 'string' },
    out: { type: 'string' },
    classes: { type: 'string' },
    resolution: { type: 'string' },
    seed: { type: 'string' },
    force: { type: 'boolean' },
    'timm-model': { type: 'string' },
  },
  fields: { file: '<file>', variant: '--model', out: '--out', classes: '--classes', resolution: '--resolution', seed: '--seed', timmModel: '--timm-model' },
  async run(input) {
    return input.values.out === undefined ? importIntoCache(input) : writeModelFolder(input);
  },
};

async function importIntoCache({ positionals: [file], values, client }: CommandInput) {
  const onlyWithOut = ['classes', 'resolution', 'seed', 'force'].filter((k) => values[k] !== undefined);
  if (onlyWithOut.length > 0) throw new ApiError('invalid_input', `--${onlyWithOut[0]} applies to the model folder: add --out DIR`);
  const result = await client().call('weights.importFile', {
    file: resolvePathArg(file) as string,
    variant: values.model as string | undefined,
    timmModel: values['timm-model'] as string | undefined,
  });
  const w = result.weights;
  const head = w.includeTop ? `with a ${w.classes}-class classifier` : 'without classifier';
  const text = [
    `${result.alreadyPresent ? 'Already in the cache' : 'Imported'}: ${w.variant} ${head} → ${w.file}`,
    `  ${formatBytes(w.bytes)} · MD5 ${w.md5}${w.verified ? ' (the published Keras file)' : ''}`,
    ...result.notes.map((n) => `  ${n}`),
  ].join('\n');
  return { json: result, text };
}

async function writeModelFolder({ positionals: [file], values, client }: CommandInput) {
  const result = await client().call('weights.convert', {
    file: resolvePathArg(file) as string,
    out: resolvePathArg(values.out as string) as string,
    variant: values.model as string | undefined,
    classes: numberOrText(values.classes) as number | undefined,
    resolution: numberOrText(values.resolution) as number | undefined,
    seed: numberOrText(values.seed) as number | undefined,
    timmModel: values['timm-model'] as string | undefined,
    overwrite: values.force === true,
  });
  const text = [
    `Wrote a TF.js model to ${result.out} (${formatBytes(result.bytes)})`,
    `  ${result.variant} at ${result.resolution}×${result.resolution} px, ${result.classes} classes, classifier ${result.headLoaded ? 'from the file' : 'new'}`,
    ...result.notes.map((n) => `  ${n}`),
    `  Try it: effitune infer ${result.out} <image>...`,
  ].join('\n');
  return { json: result, text };
}

export function formatWeightsTable(weights: LocalWeights[], indent = ''): string {
  const rows = weights.map((w) => [
    w.id,
    w.variant,
    w.includeTop ? `top (${w.classes})` : 'notop',
    w.format,
    formatBytes(w.bytes),
    w.source,
    w.verified ? 'published' : '',
  ]);
  return formatTable(['ID', 'VARIANT', 'HEAD', 'FORMAT', 'SIZE', 'SOURCE', 'MD5'], rows, indent);
}

/** One throttled line on stderr while downloading (only on a terminal: pipes get no \r noise). */
class DownloadLine {
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly terminal: CommandInput['stderr']) {}

  update(p: WeightsProgress): void {
    if (!this.terminal.isTTY) return;
    const now = Date.now();
    if (p.phase === 'downloading' && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const total = p.totalBytes === null ? '?' : formatBytes(p.totalBytes);
    const percent = p.totalBytes ? ` ${Math.floor((100 * p.receivedBytes) / p.totalBytes)}%` : '';
    const rate = p.bytesPerSecond > 0 ? ` · ${formatBytes(p.bytesPerSecond)}/s` : '';
    const text = `${p.fileName}: ${p.phase}${percent} ${formatBytes(p.receivedBytes)} of ${total}${rate}`;
    this.terminal.write(`\r${text.slice(0, (this.terminal.columns || 80) - 1)}\x1b[K`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.terminal.write('\r\x1b[K');
    this.drawn = false;
  }
}
