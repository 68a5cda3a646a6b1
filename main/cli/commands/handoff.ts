import type { HandoffExportResult, HandoffImportResult } from '../../contract/calls-handoff';
import { ApiError } from '../../contract/contract';
import type { Command, OptionSpec } from '../command';
import { resolvePathArg } from '../paths';
import { fromFlags } from '../user-input';
import { configFromFlags, trainCommand } from './train';

/** train's configuration options, the same words and meaning; not the ones about running here. */
const NOT_FOR_HANDOFF = new Set(['resume', 'estimate', 'plan', 'backend', 'engine']);
const TRAIN_OPTIONS: OptionSpec = Object.fromEntries(Object.entries(trainCommand.options ?? {}).filter(([name]) => !NOT_FOR_HANDOFF.has(name)));

export const handoffExport: Command = {
  words: ['handoff', 'export'],
  args: ['project'],
  optionsUsage: '--model M [train options] --out DIR [--include-test] [--copy-images] [--force]',
  summary: "Write a bundle that trains the model with PyTorch's distributed trainer (torchrun) on other machines",
  details: [
    '--model, --phi, --resolution, --mode, --epochs, --batch, --weights, --lr, ... as for `effitune train` (the same checks and defaults)',
    '--out DIR         the bundle folder (must not exist or be empty, unless --force)',
    '--include-test    ship the test split too (by default it stays locked in the project)',
    '--copy-images     copy the images into the bundle (data/), so the folder alone can move',
    'The bundle holds bundle.json (configuration, classes, architecture as data), images.jsonl (paths relative to a data root,',
    'SHA-256, labels, splits), initial weights as safetensors in timm naming, train.py, requirements.txt and a README with the',
    'commands. Train from inside it:  torchrun --standalone --nproc_per_node N train.py   (checkpoints, log, final weights in out/).',
    'Bring it back with `effitune handoff import <project> DIR`.',
  ],
  options: { ...TRAIN_OPTIONS, out: { type: 'string' }, 'include-test': { type: 'boolean' }, 'copy-images': { type: 'boolean' }, force: { type: 'boolean' } },
  fields: { ...trainCommand.fields, out: '--out', includeTest: '--include-test', copyImages: '--copy-images' },
  async run({ positionals: [project], values, client, stderr }) {
    if (values.out === undefined) throw new ApiError('invalid_input', '--out DIR is required: the folder to write the bundle to');
    const file = resolvePathArg(project)!;
    const jobId = `handoff-cli-${process.pid}`;
    const stop = client().on('handoff.progress', (p) => {
      if (p.jobId === jobId) stderr.write(`${p.message}...\n`);
    });
    try {
      const result = await client().call(
        'handoff.export',
        fromFlags({
          project: file,
          ...configFromFlags(values),
          out: resolvePathArg(values.out as string),
          includeTest: values['include-test'] === true,
          copyImages: values['copy-images'] === true,
          force: values.force === true,
          jobId,
        }),
      );
      return { json: result, text: formatExport(result) };
    } finally {
      stop();
    }
  },
};

export const handoffImport: Command = {
  words: ['handoff', 'import'],
  args: ['project', 'dir'],
  optionsUsage: '[--python PATH] [--skip-parity]',
  summary: 'Bring a bundle trained with train.py back as a run of the project (checked: same images, same answers)',
  details: [
    'DIR is the bundle folder after training (with its out/ folder).',
    'The import refuses a bundle of another project (image hashes), converts out/final.safetensors to the run model,',
    "checks that PyTorch and the imported model give the same probabilities on the bundle's parity images (within 1e-4),",
    'and records the run with its epochs from out/metrics.jsonl, marked as trained elsewhere (where, processes, device, torch).',
    '--python PATH     the Python with torch for the parity check (default $EFFITUNE_PYTHON, else the first python3 with torch;',
    '                  without one, the probabilities train.py wrote in out/parity.json are used)',
    '--skip-parity     import without the parity check (not recommended)',
  ],
  options: { python: { type: 'string' }, 'skip-parity': { type: 'boolean' } },
  fields: { project: '<project>', dir: '<dir>', python: '--python' },
  async run({ positionals: [project, dir], values, client }) {
    const result = await client().call('handoff.import', {
      project: resolvePathArg(project)!,
      dir: resolvePathArg(dir)!,
      skipParity: values['skip-parity'] === true,
      python: typeof values.python === 'string' ? values.python : undefined,
    });
    return { json: result, text: formatImport(result) };
  },
};

function formatExport(r: HandoffExportResult): string {
  const lines = [
    `Wrote the hand-off bundle ${r.dir}: ${r.variant} at ${r.resolution} px, ${r.classes.length} classes`,
    `  ${r.images.train} train + ${r.images.val} val${r.images.test ? ` + ${r.images.test} test` : ''} images (data root ${r.dataRoot}${r.copied ? ', copied' : ''}); ${r.files} files, ${(r.bytes / 1024 / 1024).toFixed(1)} MiB, ${r.seconds.toFixed(1)} s`,
    `  initial weights: ${r.weights}`,
    '',
    'Train it (from inside the bundle folder):',
    `  one machine:       ${r.commands.oneMachine}`,
    `  CPU only:          ${r.commands.cpu}`,
    `  several machines:  ${r.commands.severalMachines}`,
    `  SLURM:             ${r.commands.slurm}`,
    'Then bring it back:',
    `  ${r.commands.importBack}`,
  ];
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function formatImport(r: HandoffImportResult): string {
  const w = r.trainedElsewhere;
  const best = r.run.bestEpoch === null ? '' : `, best epoch ${r.run.bestEpoch + 1}`;
  const lines = [
    `Imported run ${r.run.id}: ${r.run.variant} at ${r.run.resolution} px, ${r.epochs} epoch${r.epochs === 1 ? '' : 's'}${best}`,
    `  trained with PyTorch ${w.torch} on ${w.hosts.join(', ')}: ${w.processes} process${w.processes === 1 ? '' : 'es'}, ${w.device}${w.amp ? ', AMP' : ''}${w.resumes ? `, resumed ${w.resumes}×` : ''}`,
    r.parity
      ? `  parity on ${r.parity.images} images: largest probability difference ${r.parity.maxAbsDiff.toExponential(2)} (≤ ${r.parity.tolerance}), top-1 identical`
      : '  parity NOT checked (--skip-parity)',
    `  model: ${r.modelDir}`,
    `Evaluate it: effitune eval <project> --run ${r.run.id}`,
  ];
  return lines.join('\n');
}
