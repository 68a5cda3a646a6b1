import type { BackendProbe, BackendReport } from '../../contract/calls-backend';
import type { Command } from '../command';
import { formatTable } from '../text-table';
import { formatBytes } from './models';

export const doctorCommand: Command = {
  words: ['doctor'],
  args: [],
  summary: 'Which compute backends work on this machine, why the others do not, and what to install',
  details: ['Each backend is started and checked on a small convolution (and its gradients, for training).'],
  async run({ service }) {
    const probe = await service().call('backend.probe', {});
    return { json: probe, text: formatDoctor(probe) };
  },
};

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

export function formatDoctor(probe: BackendProbe): string {
  const { system } = probe;
  const lines = [
    `Node ${system.node} on ${system.platform} ${system.arch} · ${system.cpuModel} · ${system.cores} cores · ${formatBytes(system.memoryBytes)} memory`,
    '',
    formatTable(
      ['BACKEND', 'LOADS', 'TRAIN', 'INFER', 'MEMORY', 'DEVICE'],
      probe.backends.map((b) => [b.name, yesNo(b.loads) + (b.softwareGpu ? ' (software)' : ''), yesNo(b.canTrain), yesNo(b.canInfer), b.memoryBytes === null ? '-' : formatBytes(b.memoryBytes), b.device ?? '-']),
      '  ',
    ),
    '',
    `  Default for training: ${probe.defaults.train} · for inference: ${probe.defaults.infer} (choose another with --backend)`,
  ];
  const notes = probe.backends.filter((b) => b.reason || b.install);
  if (notes.length > 0) lines.push('', ...notes.flatMap(describeNote));
  lines.push('', `Probed in ${probe.elapsedSeconds.toFixed(1)} s.`);
  return lines.join('\n');
}

function describeNote(b: BackendReport): string[] {
  const lines = [`  ${b.name}: ${b.reason ?? 'works'}`];
  if (b.install) lines.push(`    install: ${b.install}`);
  const env = Object.entries(b.env);
  if (env.length > 0) lines.push(`    needs: ${env.map(([key, value]) => `${key}=${value}`).join(' ')}`);
  return lines;
}
