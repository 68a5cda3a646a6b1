import type { BackendProbe, BackendReport } from '../../contract/calls-backend';
import type { ProviderProbe, ProviderReport } from '../../contract/calls-inference';
import type { Command } from '../command';
import { formatTable } from '../text-table';
import { formatBytes } from './models';

export const doctorCommand: Command = {
  words: ['doctor'],
  args: [],
  summary: 'Which compute backends and inference providers work on this machine, why the others do not, and what to install',
  details: [
    'Each TF.js backend (training) is started and checked on a small convolution (and its gradients, for training).',
    'Each ONNX Runtime execution provider (inference) is tried in a process of its own on a small convolution.',
    '--json: the backend probe with its ONNX Runtime providers under "inference".',
  ],
  async run({ client }) {
    const [probe, inference] = await Promise.all([client().call('backend.probe', {}), client().call('inference.providers', {})]);
    return { json: { ...probe, inference }, text: `${formatDoctor(probe)}\n\n${formatProviders(inference)}` };
  },
};

export function formatProviders(probe: ProviderProbe): string {
  if (probe.onnxruntime === null) return 'Inference: onnxruntime-node is not installed; inference runs on TF.js (npm install restores it).';
  const lines = [
    `Inference on ONNX Runtime ${probe.onnxruntime}:`,
    '',
    formatTable(
      ['PROVIDER', 'LOADS', 'DEVICE'],
      probe.providers.map((p) => [p.name, yesNo(p.loads) + (p.software ? ' (software)' : ''), p.device ?? '-']),
      '  ',
    ),
    '',
    probe.default
      ? `  Default for inference: ${probe.default}${probe.default === 'cpu' ? ` with ${probe.threads} threads` : ''} (choose another with --provider)`
      : '  No provider loads: inference falls back to TF.js.',
  ];
  const notes = probe.providers.filter((p) => p.reason || p.install);
  if (notes.length > 0) lines.push('', ...notes.flatMap(describeProviderNote));
  return lines.join('\n');
}

function describeProviderNote(p: ProviderReport): string[] {
  const lines = [`  ${p.name}: ${p.reason ?? 'works'}`];
  if (p.install) lines.push(`    install: ${p.install}`);
  const env = Object.entries(p.env);
  if (env.length > 0) lines.push(`    needs: ${env.map(([key, value]) => `${key}=${value}`).join(' ')}`);
  return lines;
}

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
  // who computes the steps there (train/steps-engine.ts)
  const webgpu = probe.backends.find((b) => b.name === 'webgpu' && b.canTrain);
  if (webgpu) {
    lines.push("  webgpu trains full and top runs on the Effitune engine (--engine tfjs: TF.js's WebGPU backend, the fallback)");
    if (webgpu.gpuFeatures) {
      lines.push(
        webgpu.gpuFeatures.includes('shader-f16')
          ? '  the adapter has shader-f16: --precision mixed keeps activations in float16 (less GPU memory)'
          : '  the adapter has no shader-f16, so --precision mixed (float16 activations) is not available',
      );
    }
  }
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
