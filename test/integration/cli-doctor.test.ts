/**
 * `effitune doctor` as a user runs it (bin/effitune.mjs in a child process): every backend of the
 * ladder with whether it loads, trains and infers, why not and what to install; --json gives
 * exactly one JSON object.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendProbe } from '../../main/contract/calls-backend';
import { nativeInstall } from '../../main/backend/native-tensorflow';
import { findSwiftShaderIcd } from '../../main/backend/webgpu-dawn';
import { effitune as spawnEffitune } from '../fixtures/cli-runner';
import { makeTempDir, removeDir } from '../fixtures/temp';

// Node + tsx for the CLI, then one more per probed backend, on two shared cores.
const SLOW = 180_000;

const tmp = makeTempDir('cli-doctor');
afterAll(() => removeDir(tmp));

/** The real binary, run in this file's temporary folder (EFFITUNE_HOME = <tmp>/home). */
const effitune = (args: string[]) => spawnEffitune(args, { cwd: tmp });

describe('effitune doctor', () => {
  it(
    '--json: one object listing the whole ladder with what works here and why not',
    async () => {
      const run = await effitune(['doctor', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.trim().split('\n');
      expect(lines, run.stdout).toHaveLength(1);
      const probe = BackendProbe.parse(JSON.parse(lines[0]));
      console.info(`doctor --json took ${run.seconds.toFixed(1)} s (probe ${probe.elapsedSeconds} s): ${probe.backends.map((b) => `${b.name} ${b.probeSeconds} s`).join(', ')}`);

      expect(probe.backends.map((b) => b.name)).toEqual(['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu']);
      expect(probe.system).toMatchObject({ node: process.version, platform: process.platform, arch: process.arch });
      expect(probe.system.cores).toBeGreaterThan(0);
      const byName = Object.fromEntries(probe.backends.map((b) => [b.name, b]));

      expect(byName.cpu).toMatchObject({ loads: true, canTrain: true, canInfer: true, reason: null });
      // wasm trains with our gradient kernels (main/backend/cpu-kernels/wasm-training.ts)
      expect(byName.wasm).toMatchObject({ installed: true, loads: true, canInfer: true, canTrain: true });
      for (const b of probe.backends) {
        if (!b.loads) expect(b.reason, b.name).toBeTruthy();
      }
      if (!nativeInstall('@tensorflow/tfjs-node').installed) {
        expect(byName['tfjs-node']).toMatchObject({ installed: false, loads: false });
        expect(byName['tfjs-node'].install).toContain(`npm install @tensorflow/tfjs-node@${tf.version_core}`);
      }
      if (findSwiftShaderIcd() && !process.env.VK_ICD_FILENAMES) {
        // Here the WebGPU rung is SwiftShader: it works, in software, and needs its driver named.
        expect(byName.webgpu).toMatchObject({ loads: true, canTrain: true, softwareGpu: true });
        expect(byName.webgpu.env.VK_ICD_FILENAMES).toBe(findSwiftShaderIcd());
      } else if (process.env.VK_ICD_FILENAMES && byName.webgpu.loads) {
        // a driver the user named (e.g. lavapipe for the tests) is theirs: nothing added to it
        expect(byName.webgpu.env.VK_ICD_FILENAMES).toBeUndefined();
      }
      if (byName.webgpu.loads) {
        // the features the engine can use, as a list the UI reads (precision mixed needs shader-f16) and in the words of the device
        expect(byName.webgpu.gpuFeatures).toBeInstanceOf(Array);
        for (const f of byName.webgpu.gpuFeatures!) expect(['shader-f16', 'subgroups']).toContain(f);
        expect(byName.webgpu.device).toContain(byName.webgpu.gpuFeatures!.length > 0 ? byName.webgpu.gpuFeatures!.join(', ') : 'no shader-f16 or subgroups');
      }
      expect(byName.wasm.gpuFeatures).toBeUndefined();

      const train = byName[probe.defaults.train];
      expect(train).toMatchObject({ loads: true, canTrain: true, softwareGpu: false });
      expect(byName[probe.defaults.infer]).toMatchObject({ loads: true, canInfer: true, softwareGpu: false });
    },
    SLOW,
  );

  it(
    'prints a table with a reason and an install hint for what does not work',
    async () => {
      const run = await effitune(['doctor']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^Node v\d+/);
      expect(run.stdout).toMatch(/BACKEND\s+LOADS\s+TRAIN\s+INFER\s+MEMORY\s+DEVICE/);
      for (const name of ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu']) expect(run.stdout).toMatch(new RegExp(`^  ${name}\\s+(yes|no)`, 'm'));
      expect(run.stdout).toMatch(/Default for training: \S+ · for inference: \S+/);
      // where webgpu can train, who computes its steps
      if (/^  webgpu\s+yes\S*(?: \(software\))?\s+yes/m.test(run.stdout)) {
        expect(run.stdout).toContain("webgpu trains full and top runs on the Effitune engine (--engine tfjs: TF.js's WebGPU backend, the fallback)");
        // whether mixed precision is there, as the adapter's features say
        expect(run.stdout).toMatch(/^  the adapter has (shader-f16: --precision mixed keeps activations in float16|no shader-f16, so --precision mixed \(float16 activations\) is not available)/m);
      }
      if (!nativeInstall('@tensorflow/tfjs-node').installed) expect(run.stdout).toMatch(/^ {4}install: npm install @tensorflow\/tfjs-node@/m);
    },
    SLOW,
  );

  it('rejects arguments it does not take', async () => {
    const run = await effitune(['doctor', 'extra']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unexpected argument "extra"');
  }, SLOW);
});
