/**
 * `effitune eval <project> --run <id>`: the metrics of a finished run on a split, stored in the
 * project and recomputed only when the data or labels changed (or with --recompute).
 */
import { ApiError } from '../../contract/contract';
import type { Evaluation, PredictProgress } from '../../contract/calls-eval';
import type { Command, CommandInput } from '../command';
import { resolvePathArg } from '../paths';
import { fromFlags } from '../user-input';
import { formatTable, plural } from '../text-table';

export const evalCommand: Command = {
  words: ['eval'],
  args: ['project'],
  optionsUsage: '--run ID [--split val|test|train] [--recompute] [--predict-again] [--provider NAME] [--backend NAME]',
  summary: "Accuracy, per-class precision/recall/F1 and the confusion matrix of a finished run on a split",
  details: [
    '--run ID         the training run (effitune runs <project> lists them); it must have completed',
    '--split NAME     test (default), val, or train (to see over-fitting)',
    '--recompute      compute the metrics again instead of reading the stored evaluation (stored predictions are reused)',
    '--predict-again  predict every image again (e.g. on another --provider), then compute the metrics',
    '--provider NAME  ONNX Runtime execution provider: cuda, dml, coreml, webgpu or cpu (default: the best that loads here; effitune doctor lists them)',
    '--backend NAME   predict on TF.js with this backend instead of ONNX Runtime',
    'The evaluation is stored in the project and reused until an image, label or split changes.',
    'Precision is n/a for a class never predicted, recall n/a for a class absent from the split;',
    'averages count an undefined value as 0 (scikit-learn zero_division=0): macro over the classes present, weighted by support.',
    '--json: the matrix is rows = true class, columns = predicted, in the order of `classes`.',
  ],
  options: { run: { type: 'string' }, split: { type: 'string' }, recompute: { type: 'boolean' }, 'predict-again': { type: 'boolean' }, backend: { type: 'string' }, provider: { type: 'string' } },
  fields: { project: '<project>', runId: '--run', split: '--split', backend: '--backend', provider: '--provider' },
  async run(input) {
    const { positionals, values } = input;
    if (typeof values.run !== 'string') throw new ApiError('invalid_input', '--run ID is required: the training run to evaluate (effitune runs <project> lists them)');
    if (!/^\s*\d+\s*$/.test(values.run)) throw new ApiError('invalid_input', `--run: "${values.run}" is not a run id (a whole number, 1 or more)`);
    const project = resolvePathArg(positionals[0]);
    const client = input.client();
    const progress = new PredictLine(input);
    const stop = client.on('predict.progress', (p) => progress.update(p));
    try {
      const evaluation = await client.call('eval.run', fromFlags({
        project,
        runId: Number(values.run),
        split: values.split,
        recompute: values.recompute === true,
        predictAgain: values['predict-again'] === true,
        backend: values.backend,
        provider: values.provider,
      }));
      return { json: evaluation, text: formatEvaluation(evaluation) };
    } finally {
      stop();
      progress.clear();
    }
  },
};

/** "predicting 40/120 images" on stderr, only on a terminal. */
class PredictLine {
  private drawn = false;
  private last = 0;
  constructor(private readonly input: CommandInput) {}

  update(p: PredictProgress): void {
    const now = Date.now();
    if (!this.input.stderr.isTTY || (now - this.last < 100 && p.done < p.total)) return;
    this.last = now;
    this.input.stderr.write(`\rpredicting ${p.done}/${p.total} images\x1b[K`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.input.stderr.write('\r\x1b[K');
  }
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)} %`);
const num = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));

/** Column headers are class names when the matrix fits this width, else numbers with a legend. */
const MATRIX_WIDTH = 120;

export function formatEvaluation(e: Evaluation): string {
  const lines: string[] = [];
  const when = e.cached ? `stored ${e.computedAt}; --recompute to predict again` : `computed in ${e.seconds.toFixed(1)} s${e.backend ? ` on ${e.backend}` : ''}`;
  lines.push(`Run ${e.runId} on the ${e.split} split: ${plural(e.images, 'image')} evaluated (${when})`);
  if (e.images === 0) {
    lines.push('', `  Nothing to evaluate: the ${e.split} split has no usable labeled images of the run's classes.${e.split === 'test' ? ' Try --split val, or deal a test split (effitune split --test F).' : ''}`);
  } else {
    const topK = e.topK.slice(1).map((t) => `top-${t.k} ${pct(t.accuracy)}`);
    lines.push(`  accuracy ${pct(e.accuracy)}${topK.length ? `   ${topK.join('   ')}` : ''}   loss ${num(e.loss)}`);
    lines.push(`  macro    precision ${num(e.macro.precision)}  recall ${num(e.macro.recall)}  F1 ${num(e.macro.f1)}`);
    lines.push(`  weighted precision ${num(e.weighted.precision)}  recall ${num(e.weighted.recall)}  F1 ${num(e.weighted.f1)}`);
    lines.push('', formatTable(['CLASS', 'PRECISION', 'RECALL', 'F1', 'SUPPORT', 'PREDICTED'], e.perClass.map((c) => [c.className, num(c.precision), num(c.recall), num(c.f1), c.support, c.predicted]), '  '));
    lines.push('', 'Confusion matrix (rows = true class, columns = predicted):', formatMatrix(e));
  }
  if (e.skipped.length > 0) {
    lines.push('', `Skipped ${plural(e.skipped.length, 'image')}:`);
    for (const s of e.skipped.slice(0, 20)) lines.push(`  ${s.path}: ${s.reason}`);
    if (e.skipped.length > 20) lines.push(`  ... and ${e.skipped.length - 20} more (--json lists them all)`);
  }
  return lines.join('\n');
}

function formatMatrix(e: Evaluation): string {
  const names = e.classes;
  const rowsWidth = Math.max(...names.map((n) => n.length)) + 2;
  const byName = rowsWidth + names.reduce((w, n) => w + Math.max(n.length, String(e.images).length) + 2, 0) <= MATRIX_WIDTH;
  const headers = byName ? names : names.map((_, i) => String(i + 1));
  const rows = e.confusion.map((row, i) => [byName ? names[i] : `${i + 1} ${names[i]}`, ...row]);
  const table = formatTable(['TRUE \\ PREDICTED', ...headers], rows, '  ');
  return byName ? table : `${table}\n  (columns numbered as the rows)`;
}
