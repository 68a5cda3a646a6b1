/**
 * The backends compute what the CPU backend computes: a small convolutional tf.layers model
 * (test/fixtures/backend/train-step-child.ts) run forward and through one SGD step on WebGPU
 * (SwiftShader on machines without a GPU), and forward on WASM, compared with the stock CPU
 * backend. Each runs in a child process started with the environment the probe found necessary,
 * and each child must exit by itself: a GPU device or Dawn instance left alive keeps Node running.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../main/contract/calls-backend';
import { probeBackend } from '../../main/backend/probe';
import { findSwiftShaderIcd } from '../../main/backend/webgpu-dawn';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const child = path.join(repoRoot, 'test/fixtures/backend/train-step-child.ts');
// SwiftShader runs every shader on the CPU, and two busy cores are shared with other suites.
const SLOW = 240_000;
/** A child that has printed its result but is still alive after this has been kept alive by something. */
const EXIT_WITHIN_MS = 150_000;

interface StepResult {
  predictions: number[];
  loss: number | null;
  before: number[][];
  after: number[][];
}
interface ChildOutput {
  backend: BackendName;
  device: string;
  tfBackend: string;
  reference: StepResult;
  actual: StepResult;
}

function runChild(backend: BackendName, mode: 'infer' | 'train', env: Record<string, string>): Promise<{ output: ChildOutput | null; code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', child, backend, mode], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    proc.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    proc.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, EXIT_WITHIN_MS);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      resolve({ output: line ? (JSON.parse(line) as ChildOutput) : null, code, stderr, timedOut });
    });
  });
}

/** Largest |a - b| over all values, relative to the largest |b| of the same array. */
function relativeDifference(a: number[], b: number[]): number {
  expect(a).toHaveLength(b.length);
  const scale = Math.max(1e-6, ...b.map(Math.abs));
  return Math.max(0, ...a.map((v, i) => Math.abs(v - b[i]) / scale));
}

const TOLERANCE = 1e-3;
/** A weight change is a difference of nearby float32 numbers, so it carries more rounding. */
const UPDATE_TOLERANCE = 1e-2;

describe('WebGPU', () => {
  it(
    'runs a small conv model forward and one training step like the CPU backend (SwiftShader without a GPU)',
    async (context) => {
      const icd = findSwiftShaderIcd();
      const report = await probeBackend('webgpu');
      // Where SwiftShader is installed this test must run: no adapter is then a failure.
      if (!report.loads && !icd) context.skip(`no WebGPU adapter and no SwiftShader on this machine: ${report.reason}`);
      expect(report, report.reason ?? '').toMatchObject({ loads: true, canTrain: true });

      const run = await runChild('webgpu', 'train', report.env);
      expect(run.timedOut, `the process did not exit by itself; stderr:\n${run.stderr}`).toBe(false);
      expect(run.code, run.stderr).toBe(0);
      const { tfBackend, reference, actual } = run.output!;
      expect(tfBackend).toBe('webgpu');

      expect(relativeDifference(actual.predictions, reference.predictions)).toBeLessThan(TOLERANCE);
      expect(reference.loss).toBeGreaterThan(0);
      expect(Math.abs(actual.loss! - reference.loss!) / reference.loss!).toBeLessThan(TOLERANCE);
      // Compare what the step changed, not the weights (the changes are small next to them):
      // the first convolution's kernel moved, so the gradient reached the bottom of the model,
      // and every weight, BatchNorm statistics included, moved the same on both backends.
      const change = (r: StepResult, k: number) => r.after[k].map((v, i) => v - r.before[k][i]);
      expect(Math.max(...change(reference, 0).map(Math.abs))).toBeGreaterThan(1e-5);
      reference.after.forEach((_, k) => expect(relativeDifference(change(actual, k), change(reference, k)), `change of weight ${k}`).toBeLessThan(UPDATE_TOLERANCE));
    },
    SLOW,
  );
});

describe('WASM', () => {
  it(
    'runs the same model forward like the CPU backend',
    async () => {
      const run = await runChild('wasm', 'infer', {});
      expect(run.timedOut, `the process did not exit by itself; stderr:\n${run.stderr}`).toBe(false);
      expect(run.code, run.stderr).toBe(0);
      const { tfBackend, reference, actual } = run.output!;
      expect(tfBackend).toBe('wasm');
      expect(reference.predictions).toHaveLength(6);
      expect(relativeDifference(actual.predictions, reference.predictions)).toBeLessThan(TOLERANCE);
      // Softmax rows: a model that ran, not zeros.
      expect(actual.predictions.slice(0, 3).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    },
    SLOW,
  );
});
