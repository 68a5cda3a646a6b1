import type { VariantFigures } from '../../contract/calls-models';
import type { Command } from '../command';
import { numberOrText } from '../numbers';
import { formatTable } from '../text-table';

export const modelsList: Command = {
  words: ['models'],
  args: [],
  optionsUsage: '[--batch N]',
  summary: 'The EfficientNet variants: resolution, parameters, FLOPs, training memory, top-1, local weights',
  details: [
    '--batch N   batch size of the training-memory estimate (default 32)',
    'Parameters count a 1000-class head; FLOPs are multiply-adds of one image at the native resolution.',
    'Memory is the estimated peak of one tf.js training step (activations, weights, gradients, Adam).',
    'effitune models describe <variant> shows one variant, also a custom "phi=-4[,alpha=1.2,beta=1.1,gamma=1.15]".',
  ],
  options: { batch: { type: 'string' } },
  fields: { batch: '--batch' },
  async run({ values, client }) {
    const result = await client().call('models.list', { batch: numberOrText(values.batch) as number | undefined });
    return { json: result, text: formatVariantTable(result.variants, result.batch) };
  },
};

export const modelsDescribe: Command = {
  words: ['models', 'describe'],
  args: ['variant'],
  optionsUsage: '[--batch N] [--resolution N]',
  summary: 'Figures for one variant, named (b0, v2-s) or custom (phi=-4,alpha=1.2,beta=1.1,gamma=1.15)',
  details: ['--batch N        batch size of the training-memory estimate (default 32)', '--resolution N   input size in pixels (default the variant\'s)'],
  options: { batch: { type: 'string' }, resolution: { type: 'string' } },
  fields: { variant: '<variant>', batch: '--batch', resolution: '--resolution' },
  async run({ positionals: [variant], values, client }) {
    const figures = await client().call('models.describe', {
      variant,
      batch: numberOrText(values.batch) as number | undefined,
      resolution: numberOrText(values.resolution) as number | undefined,
    });
    const lines = [
      `${figures.name} (${figures.id})`,
      `  resolution ${figures.resolution} px · width ×${round(figures.width)} · depth ×${round(figures.depth)} · ${figures.blocks} blocks · dropout ${figures.dropout}`,
      `  ${figures.params.toLocaleString('en-US')} trainable parameters (1000-class head) · ${(figures.flops / 1e9).toFixed(3)} GFLOPs`,
      `  training memory at batch ${figures.batch}: ${formatBytes(figures.trainingMemoryBytes)}`,
      `  ImageNet top-1: ${figures.top1 === null ? 'not published' : `${figures.top1} %`}`,
    ];
    if (figures.scaling) {
      const s = figures.scaling;
      lines.push(`  compound scaling φ ${s.phi}: α ${s.alpha}, β ${s.beta}, γ ${s.gamma}; α·β²·γ² = ${s.flopsGrowthPerPhi.toFixed(3)} (the paper keeps it ≈ 2)`);
    }
    lines.push(`  local weights: ${describeLocal(figures)}`);
    return { json: figures, text: lines.join('\n') };
  },
};

export function formatVariantTable(variants: VariantFigures[], batch: number): string {
  const rows = variants.map((v) => [
    v.id,
    v.name,
    v.resolution,
    v.params.toLocaleString('en-US'),
    (v.flops / 1e9).toFixed(2),
    formatBytes(v.trainingMemoryBytes),
    v.top1 === null ? '' : v.top1.toFixed(1),
    describeLocal(v),
  ]);
  return formatTable(['VARIANT', 'NAME', 'RES', 'PARAMS', 'GFLOPS', `TRAIN MEM @${batch}`, 'TOP-1', 'LOCAL WEIGHTS'], rows);
}

function describeLocal(v: VariantFigures): string {
  const kinds = [...new Set(v.weights.map((w) => (w.includeTop ? 'top' : 'notop')))];
  if (kinds.length > 0) return kinds.join(', ');
  return v.pretrained.length > 0 ? 'none (downloadable)' : 'none';
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function round(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}
