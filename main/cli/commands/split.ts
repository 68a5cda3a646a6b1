import type { SplitResult } from '../../contract/calls-data';
import { ApiError } from '../../contract/contract';
import type { Command } from '../command';
import { resolvePathArg } from '../paths';
import { fromFlags } from '../user-input';
import { formatTable } from '../text-table';

export const splitCommand: Command = {
  words: ['split'],
  args: ['project'],
  optionsUsage: '[--val F] [--test F] [--seed N] [--reset-test] [--reshuffle] [--lock-test | --unlock-test]',
  summary: 'Split the labeled images of each class into train, validation and test',
  details: [
    "--val F        validation fraction of each class, 0 <= F < 1 (default: the last split's, else 0.15)",
    "--test F       test fraction of each class, 0 <= F < 1; val + test < 1 (default: the last split's, else 0.15)",
    "--seed N       seed of the random assignment, 0..4294967295 (default: the last split's, else 1)",
    '--reset-test   deal the test split again; otherwise images in test stay there across re-splits',
    '--reshuffle    deal train/validation again even though val and seed are unchanged',
    '--lock-test    lock the test split: nothing enters or leaves it until --unlock-test (no re-split is done)',
    '--unlock-test  unlock the test split (no re-split is done)',
    'Counts per class: test = round(test·n), val = round(val·n), at least 1 val when n >= 3, at least 1 train.',
    'Images imported after a split get assigned by running split again, without moving the others.',
  ],
  options: {
    val: { type: 'string' },
    test: { type: 'string' },
    seed: { type: 'string' },
    'reset-test': { type: 'boolean' },
    reshuffle: { type: 'boolean' },
    'lock-test': { type: 'boolean' },
    'unlock-test': { type: 'boolean' },
  },
  fields: { project: '<project>', val: '--val', test: '--test', seed: '--seed' },
  async run({ positionals: [project], values, client }) {
    if (values['lock-test'] === true || values['unlock-test'] === true) {
      if (values['lock-test'] === true && values['unlock-test'] === true) throw new ApiError('invalid_input', '--lock-test and --unlock-test: give one of them');
      const { locked } = await client().call('split.lock', { project: resolvePathArg(project), locked: values['lock-test'] === true });
      return { json: { locked }, text: locked ? 'The test split is locked: nothing enters or leaves it (--unlock-test to unlock).' : 'The test split is unlocked.' };
    }
    const result = await client().call('split.run', fromFlags({
      project: resolvePathArg(project),
      val: numberOrText(values.val),
      test: numberOrText(values.test),
      seed: numberOrText(values.seed),
      resetTest: values['reset-test'] === true,
      reshuffle: values.reshuffle === true ? true : undefined,
    }));
    return { json: result, text: formatSplitResult(result) };
  },
};

/**
 * Any text JavaScript reads as a finite number (".15", "1e-1", " 7 ") becomes that number; the rest
 * passes through as text so the contract rejects it, naming the flag.
 */
function numberOrText(value: string | boolean | undefined): unknown {
  if (typeof value !== 'string' || value.trim() === '') return value;
  const number = Number(value);
  return Number.isFinite(number) ? number : value;
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

export function formatSplitResult(r: SplitResult): string {
  const p = r.params;
  const lines: string[] = [];
  if (p) {
    const kept = p.testDealtAt !== null && p.testDealtAt !== p.splitAt;
    lines.push(`Split with val ${p.val}, test ${p.test}, seed ${p.seed}${r.testReset ? ' (test split dealt again)' : kept ? ` (test split kept from ${p.testDealtAt})` : ''}`);
  }
  lines.push(`  ${r.assigned} image(s) assigned · ${r.moved} moved${r.reshuffled && r.moved > 0 ? ' (train/validation dealt again)' : ''}`);
  if (r.classes.length === 0) {
    lines.push('', '  No classes yet: label images (or import folders with --labels-from-folders) first.');
  } else {
    const rows = r.classes.map((c) => [c.name, c.total, `${c.train} (${percent(c.fractions.train)})`, `${c.val} (${percent(c.fractions.val)})`, `${c.test} (${percent(c.fractions.test)})`]);
    const t = r.totals;
    const share = (n: number) => (t.images > 0 ? ` (${percent(n / t.images)})` : '');
    rows.push(['total', t.images, `${t.train}${share(t.train)}`, `${t.val}${share(t.val)}`, `${t.test}${share(t.test)}`]);
    lines.push('', formatTable(['CLASS', 'IMAGES', 'TRAIN', 'VAL', 'TEST'], rows, '  '));
  }
  if (r.unlabeled > 0) lines.push('', `  ${r.unlabeled} unlabeled image(s) are not split.`);
  for (const note of r.notes) lines.push('', `  Note: ${note}`);
  for (const warning of r.warnings ?? []) lines.push('', `  Warning: ${warning}`);
  if (r.locked) lines.push('', '  The test split is locked (--unlock-test to unlock).');
  if (r.notes.length > 0 && !r.testReset) lines.push('  (--reset-test deals the test split again)');
  return lines.join('\n');
}
