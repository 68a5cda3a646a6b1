/**
 * The inference engine (main/inference): a model folder converted to ONNX once, cached by weights
 * digest, run on ONNX Runtime; every cut (probabilities, pooled features, the trunk before a block)
 * equals the TF.js model within 1e-4; a damaged or deleted cache file is rebuilt; changed weights
 * get a new file; concurrent callers share one session; providers that cannot load are reported
 * with a reason and refused in words when forced, never fatal.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../main/backend/tfjs-backend';
import type { ProviderProbe } from '../../main/contract/calls-inference';
import { InferenceEngine } from '../../main/inference/inference-engine';
import { cutModel, onnxFileFor, type GraphCut } from '../../main/inference/onnx-file';
import { defaultProvider, probeProviders } from '../../main/inference/provider-probe';
import { buildEfficientNet } from '../../main/model/builder';
import { saveModelFolder } from '../../main/model/manager/model-folder';
import { getVariant, planArchitecture } from '../../main/model/variants';
import { makeTempDir } from '../fixtures/temp';

const RESOLUTION = 32;
const CLASSES = 3;
let tmp: string;
let model: tfl.LayersModel;
let modelDir: string;
let probe: ProviderProbe;
const engine = new InferenceEngine(() => probeProviders());

function pixels(count: number, seed = 1): Float32Array {
  return Float32Array.from({ length: count * RESOLUTION * RESOLUTION * 3 }, (_, i) => ((i + seed) * 37) % 256);
}

async function tfjsOutput(m: tfl.LayersModel, x: Float32Array, count: number): Promise<Float32Array> {
  const y = tf.tidy(() => m.predict(tf.tensor4d(x, [count, RESOLUTION, RESOLUTION, 3])) as tf.Tensor);
  try {
    return (await y.data()) as Float32Array;
  } finally {
    y.dispose();
  }
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i])), 0);
}

beforeAll(async () => {
  tmp = makeTempDir('inference-engine');
  await useBackend('cpu');
  const variant = getVariant('phi=-8');
  model = buildEfficientNet(variant, { classes: CLASSES, includeTop: true, resolution: RESOLUTION, seed: 5 });
  modelDir = path.join(tmp, 'run', 'model');
  await saveModelFolder(model, modelDir, { variant: variant.id, resolution: RESOLUTION, classes: CLASSES, input: 'RGB pixels 0..255' });
  probe = await probeProviders();
}, 120_000);

afterAll(async () => {
  await engine.close();
  model?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('providers', () => {
  it('reports every provider, best first, with a reason for each that does not load; the CPU loads and is the default here', () => {
    expect(probe.providers.map((p) => p.name)).toEqual(['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
    expect(probe.onnxruntime).toMatch(/^\d+\.\d+\.\d+/);
    for (const report of probe.providers) if (!report.loads) expect(report.reason, report.name).toMatch(/\w{4}/);
    const cpu = probe.providers.find((p) => p.name === 'cpu')!;
    expect(cpu).toMatchObject({ loads: true, software: false });
    expect(cpu.device).toMatch(/threads/);
    if (process.platform === 'linux') {
      expect(probe.providers.find((p) => p.name === 'dml')!.reason).toMatch(/only on Windows/);
      expect(probe.providers.find((p) => p.name === 'coreml')!.reason).toMatch(/only on macOS/);
    }
    expect(probe.threads).toBeGreaterThanOrEqual(1);
  });

  it('never picks a software adapter by default', () => {
    const reports = probe.providers.map((p) => (p.name === 'webgpu' ? { ...p, loads: true, software: true } : p));
    expect(defaultProvider(reports)).toBe(probe.providers.find((p) => p.name === 'cuda')?.loads ? 'cuda' : 'cpu');
    expect(defaultProvider(reports.map((p) => ({ ...p, loads: false })))).toBeNull();
  });

  it('forcing a provider that does not load is refused in words, naming it and why', async () => {
    const missing = probe.providers.find((p) => !p.loads);
    if (!missing) return;
    const error = await engine.open(modelDir, { kind: 'probabilities' }, { cacheDir: path.join(tmp, 'run', 'onnx'), provider: missing.name }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_input' });
    expect((error as Error).message).toContain(`provider: ${missing.name} does not load here`);
  });
});

describe('inference engine', () => {
  const cacheDir = () => path.join(tmp, 'run', 'onnx');

  it('every cut equals the TF.js model within 1e-4 (probabilities, pooled features, the trunk before a block)', async () => {
    const blocks = planArchitecture(getVariant('phi=-8')).blocks;
    // an early block: its input is an image of several pixels a side, where NCHW and NHWC differ
    const cuts: GraphCut[] = [{ kind: 'probabilities' }, { kind: 'features' }, { kind: 'trunk', block: blocks[2].name }, { kind: 'trunk', block: blocks[blocks.length - 1].name }];
    const x = pixels(5);
    for (const cut of cuts) {
      const opened = (await engine.open(modelDir, cut, { cacheDir: cacheDir() }))!;
      expect(opened.record).toMatchObject({ engine: 'onnxruntime', provider: 'cpu' });
      const expected = await tfjsOutput(cutModel(model, cut), x, 5);
      const got = await opened.run(x, 5);
      expect(opened.outputSize * 5).toBe(expected.length);
      expect(maxDifference(got, expected), cut.kind).toBeLessThan(1e-4);
      if (cut.kind === 'trunk' && cut.block === blocks[2].name) expect(opened.onnx.output[0]).toBeGreaterThan(1);
    }
  });

  it('converts once: a second open reads the cached file', async () => {
    const first = await onnxFileFor(modelDir, { kind: 'probabilities' }, cacheDir());
    expect(first.converted).toBe(false);
    expect(fs.existsSync(first.file)).toBe(true);
  });

  it('a damaged or deleted cached ONNX file is rebuilt, and gives the same answers', async () => {
    const cached = await onnxFileFor(modelDir, { kind: 'probabilities' }, cacheDir());
    fs.writeFileSync(cached.file, fs.readFileSync(cached.file).subarray(0, 1000));
    const rebuilt = await onnxFileFor(modelDir, { kind: 'probabilities' }, cacheDir());
    expect(rebuilt.converted).toBe(true);
    fs.rmSync(rebuilt.file);
    const again = await onnxFileFor(modelDir, { kind: 'probabilities' }, cacheDir());
    expect(again.converted).toBe(true);
    const fresh = new InferenceEngine(() => probeProviders());
    try {
      const opened = (await fresh.open(modelDir, { kind: 'probabilities' }, { cacheDir: cacheDir() }))!;
      expect(maxDifference(await opened.run(pixels(2), 2), await tfjsOutput(model, pixels(2), 2))).toBeLessThan(1e-4);
    } finally {
      await fresh.close();
    }
  });

  it('changed weights are a new ONNX file, never the stale one', async () => {
    const before = await onnxFileFor(modelDir, { kind: 'probabilities' }, cacheDir());
    const other = buildEfficientNet(getVariant('phi=-8'), { classes: CLASSES, includeTop: true, resolution: RESOLUTION, seed: 6 });
    const otherDir = path.join(tmp, 'other', 'model');
    try {
      await saveModelFolder(other, otherDir, { variant: 'phi=-8', resolution: RESOLUTION, classes: CLASSES, input: 'RGB pixels 0..255' });
      const after = await onnxFileFor(otherDir, { kind: 'probabilities' }, cacheDir());
      expect(after.digest).not.toBe(before.digest);
      expect(after.file).not.toBe(before.file);
      const opened = (await engine.open(otherDir, { kind: 'probabilities' }, { cacheDir: cacheDir() }))!;
      expect(maxDifference(await opened.run(pixels(2), 2), await tfjsOutput(other, pixels(2), 2))).toBeLessThan(1e-4);
    } finally {
      other.dispose();
    }
  });

  it('concurrent evaluations share one session and each gets its own answers', async () => {
    await engine.open(modelDir, { kind: 'probabilities' }, { cacheDir: cacheDir() });
    const sessions = engine.openSessions;
    const [a, b] = await Promise.all([
      engine.open(modelDir, { kind: 'probabilities' }, { cacheDir: cacheDir() }),
      engine.open(modelDir, { kind: 'probabilities' }, { cacheDir: cacheDir() }),
    ]);
    const inputs = [pixels(3, 1), pixels(3, 2), pixels(3, 3), pixels(3, 4)];
    const outputs = await Promise.all(inputs.map((x, i) => (i % 2 ? a! : b!).run(x, 3)));
    for (let i = 0; i < inputs.length; i++) expect(maxDifference(outputs[i], await tfjsOutput(model, inputs[i], 3))).toBeLessThan(1e-4);
    expect(engine.openSessions).toBe(sessions);
  });

  it("closing a project releases the sessions of its files, and only those", async () => {
    const other = new InferenceEngine(() => probeProviders());
    try {
      await other.open(modelDir, { kind: 'probabilities' }, { cacheDir: cacheDir() });
      await other.open(modelDir, { kind: 'features' }, { cacheDir: cacheDir() });
      expect(other.openSessions).toBe(2);
      await other.releaseUnder(path.join(tmp, 'elsewhere'));
      expect(other.openSessions).toBe(2);
      await other.releaseUnder(path.join(tmp, 'run'));
      expect(other.openSessions).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('refuses pixels of the wrong size, naming both counts', async () => {
    const opened = (await engine.open(modelDir, { kind: 'probabilities' }, { cacheDir: cacheDir() }))!;
    await expect(opened.run(new Float32Array(10), 1)).rejects.toThrow(/1 images of 32×32×3 need 3072 values, got 10/);
  });
});
