/**
 * The model card of an export, as JSON (for programs) and Markdown (for people): what the model is
 * (variant, φ, resolution, classes, input), what it learned from (images per class and split), how
 * it was trained (configuration and per-epoch summary), how good it is on the test split (accuracy,
 * per-class metrics, confusion matrix), what each weight precision costs, and how closely the export
 * matches the app's model.
 */
import type { EpochRecord, RunRecord } from '../contract/calls-data';
import type { ExportFormat, PrecisionReport, Quantization } from '../contract/calls-export';
import type { VariantSpec } from '../model/variants';
import { EVALUATION_RESIZE } from '../dataset/image-pixels';
import type { ClassCounts } from './project-data';
import type { Metrics } from '../eval/metrics';

export const MODEL_CARD_MD = 'model-card.md';
export const CONFUSION_SVG = 'confusion-matrix.svg';

/** Metrics of the test split as eval.run computes them; `classes` (the project's order) are the matrix's rows and columns. */
export type TestMetrics = Metrics & { split: 'test'; classes: string[] };

export interface ModelCard {
  title: string;
  exportedAt: string;
  format: ExportFormat;
  quantize: Quantization;
  model: { variant: string; name: string; family: 'v1' | 'v2'; phi: number | null; resolution: number; classes: string[] };
  input: { layout: string; pixels: string; preprocessing: string; output: string };
  run: { id: number; createdAt: string; finishedAt: string | null; outcome: string | null; backend: string | null; bestEpoch: number | null };
  data: { perClass: ClassCounts[]; totals: Omit<ClassCounts, 'className'> };
  training: Record<string, unknown>;
  epochs: Pick<EpochRecord, 'epoch' | 'trainLoss' | 'trainAcc' | 'valLoss' | 'valAcc' | 'seconds'>[];
  test: (TestMetrics & { confusionImage: string | null }) | null;
  precisions: PrecisionReport[];
  parity: { images: number; maxAbsDiff: number; top1Agree: boolean } | null;
}

/** φ of the compound scaling: a custom variant's own, B0..B7's index, none for V2. */
export function phiOf(variant: VariantSpec): number | null {
  if (variant.scaling) return variant.scaling.phi;
  const match = /^b(\d)$/.exec(variant.id);
  return match ? Number(match[1]) : null;
}

export function buildModelCard(options: {
  projectName: string;
  run: RunRecord;
  variant: VariantSpec;
  format: ExportFormat;
  quantize: Quantization;
  counts: ClassCounts[];
  history: EpochRecord[];
  test: TestMetrics | null;
  precisions: PrecisionReport[];
  parity: ModelCard['parity'];
}): ModelCard {
  const { run, variant, counts } = options;
  const sum = (key: keyof Omit<ClassCounts, 'className'>) => counts.reduce((n, c) => n + c[key], 0);
  return {
    title: `${options.projectName} — run ${run.id} (${variant.name}, ${run.resolution} px)`,
    exportedAt: new Date().toISOString(),
    format: options.format,
    quantize: options.quantize,
    model: { variant: variant.id, name: variant.name, family: variant.family, phi: phiOf(variant), resolution: run.resolution, classes: run.classes },
    input: {
      layout: `NHWC float32 [N, ${run.resolution}, ${run.resolution}, 3]`,
      pixels: 'RGB 0..255 (not normalised: the normalisation is inside the model)',
      preprocessing: EVALUATION_RESIZE,
      output: `softmax probabilities [N, ${run.classes.length}] in the order of labels.json`,
    },
    run: { id: run.id, createdAt: run.createdAt, finishedAt: run.finishedAt, outcome: run.reason, backend: run.backend, bestEpoch: run.bestEpoch },
    data: { perClass: counts, totals: { train: sum('train'), val: sum('val'), test: sum('test'), unsplit: sum('unsplit') } },
    training: run.config,
    epochs: options.history.map(({ epoch, trainLoss, trainAcc, valLoss, valAcc, seconds }) => ({ epoch, trainLoss, trainAcc, valLoss, valAcc, seconds })),
    test: options.test ? { ...options.test, confusionImage: options.test.images > 0 ? CONFUSION_SVG : null } : null,
    precisions: options.precisions,
    parity: options.parity,
  };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(100 * v).toFixed(1)} %`);
const num = (v: number | null | undefined, digits = 4) => (v === null || v === undefined ? '—' : v.toFixed(digits));
const cell = (text: string) => text.replace(/\|/g, '\\|');

export function modelCardMarkdown(card: ModelCard): string {
  const m = card.model;
  const lines: string[] = [
    `# ${card.title}`,
    '',
    `Exported ${card.exportedAt} by Effitune as **${card.format === 'tfjs' ? 'TensorFlow.js layers model' : 'ONNX model'}**, weights ${card.quantize === 'none' ? 'float32' : `quantized to ${card.quantize}`}.`,
    '',
    '## Model',
    '',
    `| | |`,
    `|---|---|`,
    `| Variant | ${cell(m.name)} (\`${cell(m.variant)}\`) |`,
    `| φ (compound scaling) | ${m.phi ?? '—'} |`,
    `| Resolution | ${m.resolution} × ${m.resolution} px |`,
    `| Classes | ${m.classes.length}: ${m.classes.map(cell).join(', ')} |`,
    `| Input | ${card.input.layout}, ${card.input.pixels} |`,
    `| Preprocessing | ${card.input.preprocessing} |`,
    `| Output | ${card.input.output} |`,
    '',
    '## Data',
    '',
    '| Class | Train | Validation | Test |',
    '|---|---:|---:|---:|',
    ...card.data.perClass.map((c) => `| ${cell(c.className)} | ${c.train} | ${c.val} | ${c.test} |`),
    `| **total** | ${card.data.totals.train} | ${card.data.totals.val} | ${card.data.totals.test} |`,
    '',
    '## Training',
    '',
    `Run ${card.run.id}, started ${card.run.createdAt}, finished ${card.run.finishedAt ?? '—'} on the ${card.run.backend ?? '?'} backend. ${card.run.outcome ?? ''}`,
    '',
    '```json',
    JSON.stringify(card.training, null, 2),
    '```',
    '',
    '| Epoch | Train loss | Train acc. | Val. loss | Val. acc. | Seconds |',
    '|---:|---:|---:|---:|---:|---:|',
    ...card.epochs.map((e) => `| ${e.epoch + 1}${e.epoch === card.run.bestEpoch ? ' (kept)' : ''} | ${num(e.trainLoss)} | ${pct(e.trainAcc)} | ${num(e.valLoss)} | ${pct(e.valAcc)} | ${e.seconds.toFixed(1)} |`),
    '',
    '## Test results',
    '',
  ];
  const t = card.test;
  if (!t || t.images === 0) {
    lines.push('The project has no test images for these classes, so there are no test metrics. Split off a test set (`effitune split --test 0.15`) and export again.', '');
  } else {
    lines.push(
      `Top-1 accuracy **${pct(t.accuracy)}** on ${t.images} test images (${t.topK.filter((k) => k.k > 1).map((k) => `top-${k.k} ${pct(k.accuracy)}`).join(', ')}${t.topK.length > 1 ? ', ' : ''}macro F1 ${num(t.macro.f1, 3)}, weighted F1 ${num(t.weighted.f1, 3)}, loss ${num(t.loss)}), predicted with the exported float32 model.`,
      '',
      '| Class | Precision | Recall | F1 | Support |',
      '|---|---:|---:|---:|---:|',
      ...t.perClass.map((c) => `| ${cell(c.className)} | ${pct(c.precision)} | ${pct(c.recall)} | ${num(c.f1, 3)} | ${c.support} |`),
      '',
      'Confusion matrix (rows = true class, columns = predicted class):',
      '',
      `![Confusion matrix](${CONFUSION_SVG})`,
      '',
      `| true \\ predicted | ${t.classes.map(cell).join(' | ')} |`,
      `|---|${t.classes.map(() => '---:').join('|')}|`,
      ...t.confusion.map((row, i) => `| ${cell(t.classes[i])} | ${row.join(' | ')} |`),
      '',
    );
  }
  lines.push('## Weight precisions', '', '| Weights | Model size | Test accuracy | Agreement with float32 |', '|---|---:|---:|---:|');
  for (const p of card.precisions) lines.push(`| ${p.quantize === 'none' ? 'float32' : p.quantize} | ${(p.modelBytes / 1024).toFixed(1)} KiB | ${pct(p.testAccuracy)} | ${pct(p.agreement)} |`);
  lines.push('');
  if (card.parity) {
    lines.push(
      '## Parity with the app',
      '',
      `On ${card.parity.images} project images the exported model's probabilities differ from the app's by at most ${card.parity.maxAbsDiff.toExponential(2)}; the top-1 class is ${card.parity.top1Agree ? 'identical for every image' : '**not** identical for every image'}.`,
      '',
    );
  }
  lines.push('## Limits', '', 'The model only knows the classes above: any image gets one of them. Its accuracy holds for images like the training data (same kind of camera, framing and lighting).', '');
  return lines.join('\n');
}
