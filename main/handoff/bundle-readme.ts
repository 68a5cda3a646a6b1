/**
 * The bundle's README.md and requirements.txt, and the exact commands the export reports: one
 * machine with several GPUs, CPU only, several machines with a rendezvous, a SLURM job, and the
 * import back. The shell lines are plain quoted strings, so their $VARIABLES stay shell variables.
 */
import type { HandoffExportResult } from '../contract/calls-handoff';
import type { BundleManifest } from './bundle-manifest';

export const REQUIREMENTS_TXT = [
  '# PyTorch with torchrun (1.13 or later; CUDA wheels from https://pytorch.org for GPUs)',
  'torch>=1.13',
  'numpy',
  'pillow',
  '# optional: train.py uses timm for b0..b7 when it is installed (same weights, same names)',
  '# timm>=0.9',
  '',
].join('\n');

/** The SLURM job script the bundle ships as train.sbatch. */
export const TRAIN_SBATCH = [
  '#!/bin/bash',
  '#SBATCH --job-name=effitune',
  '#SBATCH --nodes=2',
  '#SBATCH --ntasks-per-node=1',
  '#SBATCH --gpus-per-node=8',
  '#SBATCH --cpus-per-task=32',
  '#SBATCH --time=24:00:00',
  'export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
  'srun torchrun --nnodes "$SLURM_NNODES" --nproc_per_node "${SLURM_GPUS_PER_NODE##*:}" \\',
  '  --rdzv_backend c10d --rdzv_endpoint "$MASTER_ADDR:29500" --rdzv_id "$SLURM_JOB_ID" \\',
  '  train.py',
  '',
].join('\n');

export function bundleCommands(bundleDir: string, projectFile: string): HandoffExportResult['commands'] {
  return {
    oneMachine: 'torchrun --standalone --nproc_per_node 8 train.py',
    cpu: 'torchrun --standalone --nproc_per_node 2 train.py --device cpu',
    severalMachines: 'torchrun --nnodes 2 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST0:29500 --rdzv_id effitune train.py',
    slurm: 'sbatch train.sbatch   (edit its #SBATCH lines for your cluster)',
    importBack: `effitune handoff import ${quote(projectFile)} ${quote(bundleDir)}`,
  };
}

function quote(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, "'\\''")}'`;
}

export function bundleReadme(m: BundleManifest, commands: HandoffExportResult['commands']): string {
  const a = m.architecture;
  const c = m.config;
  const lines = [
    `# Effitune hand-off: ${a.name} for "${m.project.name}"`,
    '',
    `Made ${m.createdAt} from ${m.project.file}. ${m.data.counts.train} training and ${m.data.counts.val} validation images` +
      `${m.data.includesTest ? ` and ${m.data.counts.test} test images` : ' (the test split stays in the project)'}, ${m.classes.length} classes: ${m.classes.join(', ')}.`,
    `Model ${a.variant} at ${a.resolution} px, mode ${c.mode}, ${c.epochs} epochs, ${c.optimizer} lr ${c.lr}, label smoothing ${c.labelSmoothing}.`,
    '',
    '## What is here',
    '- `bundle.json`: the run configuration, the classes, the architecture as data (the block table our TF.js builder walks, padding, BatchNorm, preprocessing)',
    `- \`images.jsonl\`: one image per line, path relative to the data root, SHA-256, label, split${m.data.copied ? ' (the images are in `data/`)' : ''}`,
    `- \`${m.weights.file}\`: the initial weights in timm naming (${m.weights.from})`,
    '- `train.py`: trains with PyTorch under torchrun (DistributedDataParallel; NCCL on GPUs, gloo on CPU; AMP on CUDA); `requirements.txt`',
    '- `out/` (written by train.py): `checkpoint.pt` every epoch, `metrics.jsonl`, `best.safetensors`, and at the end `final.safetensors` + `parity.json`',
    '',
    '## Install',
    '```',
    'python3 -m pip install -r requirements.txt',
    '```',
    '',
    '## Data',
    m.data.copied
      ? 'The images are inside this folder (`data/`): nothing to do.'
      : `The image paths are relative to \`${m.data.root}\` (where they were on the machine that made the bundle). Elsewhere, copy or mount that folder and pass \`--data-root DIR\`. \`--verify-hashes\` checks every file against its SHA-256 first.`,
    '',
    '## Train',
    'From inside this folder. `--nproc_per_node` is the number of GPUs of the machine; `--batch` is per process (default the configuration\'s, else 32), so the global batch is that times the processes.',
    '',
    'One machine, several GPUs:',
    '```',
    commands.oneMachine,
    '```',
    'CPU only (to try it; gloo):',
    '```',
    commands.cpu,
    '```',
    'Several machines (run the same command on each; HOST0 is the first machine\'s address):',
    '```',
    commands.severalMachines,
    '```',
    'A SLURM job: `sbatch train.sbatch` (in this folder; set the nodes, GPUs and time for your cluster), one task per node, torchrun starting one process per GPU:',
    '```',
    TRAIN_SBATCH.trimEnd(),
    '```',
    'If torchrun stops at once with `AttributeError: \'NoneType\' object has no attribute \'get\'` (torch 1.13 under Python 3.11, e.g. Debian 12\'s python3-torch), add `--redirects 1 --tee 1` after `torchrun`.',
    '',
    'Options: `--epochs N`, `--batch N`, `--lr X`, `--device cpu|cuda`, `--data-root DIR`, `--workers N`, `--no-amp`, `--impl builtin|timm`, `--restart`.',
    '',
    '## Resume',
    'Run the same command again: train.py continues after the last finished epoch from `out/checkpoint.pt` (a job killed mid-epoch loses only that epoch). `--restart` starts over.',
    '',
    '## Bring it back',
    'Copy this folder (with `out/`) back and run:',
    '```',
    commands.importBack,
    '```',
    'The import checks the bundle belongs to the project (image hashes), converts `out/final.safetensors` to a run model, checks that PyTorch and the',
    'imported model give the same probabilities on the images in `parity/` (within 1e-4), and records the run with its epochs as trained elsewhere.',
    '',
  ];
  return lines.join('\n');
}
