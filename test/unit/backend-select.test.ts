/**
 * selectBackend: forcing a backend gives it or an ApiError naming it and why; the default is
 * the best of the ladder that loads and can do the job. The 'cpu' choice brings the fast CPU
 * kernels with it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendName } from '../../main/contract/calls-backend';
import { ApiError } from '../../main/contract/contract';
import { fastCpuKernelsRegistered } from '../../main/backend/cpu-kernels';
import { nativeInstall } from '../../main/backend/native-tensorflow';
import { selectBackend } from '../../main/backend/select-backend';
import { releaseBackend, useBackend } from '../../main/backend/tfjs-backend';
import { findSwiftShaderIcd } from '../../main/backend/webgpu-dawn';

// Probing starts Node + tsx child processes; on two busy cores that takes seconds.
const SLOW = 120_000;

afterAll(() => releaseBackend());

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('forcing a backend', () => {
  it('cpu: active, with the fast kernels registered', async () => {
    const chosen = await selectBackend({ force: 'cpu', purpose: 'train' });
    expect(chosen.name).toBe('cpu');
    expect(chosen.passedOver).toEqual([]);
    expect(tf.getBackend()).toBe('cpu');
    expect(fastCpuKernelsRegistered()).toBe(true);
  });

  it.skipIf(nativeInstall('@tensorflow/tfjs-node').installed)(
    'tfjs-node when it is not installed: an error naming it, why and what to install',
    async () => {
      const err = await rejection(selectBackend({ force: 'tfjs-node', purpose: 'train' }));
      expect(err.code).toBe('not_found');
      expect(err.message).toMatch(/^the tfjs-node backend does not load here: @tensorflow\/tfjs-node is not installed/);
      expect(err.message).toContain(`To use it: npm install @tensorflow/tfjs-node@${tf.version_core}`);
    },
    SLOW,
  );

  it(
    'wasm trains (with our gradient kernels) and infers',
    async () => {
      const trained = await selectBackend({ force: 'wasm', purpose: 'train' });
      expect(trained.name).toBe('wasm');
      expect(trained.report).toMatchObject({ loads: true, canInfer: true, canTrain: true });
      const chosen = await selectBackend({ force: 'wasm', purpose: 'infer' });
      expect(chosen.name).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      const y = tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same');
      expect(Array.from(await y.data())).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
      y.dispose();
    },
    SLOW,
  );

  it(
    'webgpu: the software adapter when this machine has SwiftShader (or an error saying how to start the process)',
    async (context) => {
      const icd = findSwiftShaderIcd();
      const attempt = selectBackend({ force: 'webgpu', purpose: 'train' });
      const outcome = await attempt.then(
        (chosen) => ({ chosen, err: null }),
        (err: ApiError) => ({ chosen: null, err }),
      );
      if (outcome.err && !icd && /does not load here/.test(outcome.err.message)) context.skip(`no WebGPU adapter here and no SwiftShader: ${outcome.err.message}`);
      if (outcome.err) {
        // The one allowed failure: the software driver needs a variable only a new process can have.
        expect(outcome.err.message).toMatch(/only in a process started with LD_LIBRARY_PATH=/);
        return;
      }
      const chosen = outcome.chosen!;
      expect(chosen.name).toBe('webgpu');
      expect(tf.getBackend()).toBe('webgpu');
      if (icd) expect(chosen.report).toMatchObject({ softwareGpu: true, canTrain: true });
      const y = tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same');
      expect(Array.from(await y.data())).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
      y.dispose();
      releaseBackend();
      expect(tf.engine().backendName).toBeNull();
      expect(tf.engine().registry.webgpu).toBeUndefined();
      // Released, it starts again with a fresh device (the package registers itself only once).
      await useBackend('webgpu');
      const z = tf.add(tf.scalar(1), tf.scalar(2));
      expect(Array.from(await z.data())).toEqual([3]);
      z.dispose();
      releaseBackend();
    },
    SLOW,
  );
});

describe('the default', () => {
  it(
    'is the best of the ladder that loads and can train, and says why the better ones were passed over',
    async () => {
      const chosen = await selectBackend({ purpose: 'train' });
      expect(chosen.report).toMatchObject({ name: chosen.name, loads: true, canTrain: true, softwareGpu: false });
      const ladder = BackendName.options;
      expect(chosen.passedOver.map((p) => p.name)).toEqual(ladder.slice(0, ladder.indexOf(chosen.name)));
      for (const p of chosen.passedOver) expect(p.reason.length).toBeGreaterThan(10);
      expect(tf.getBackend()).toBe(chosen.name.startsWith('tfjs-node') ? 'tensorflow' : chosen.name);
      const webgpu = chosen.passedOver.find((p) => p.name === 'webgpu');
      if (webgpu && findSwiftShaderIcd()) expect(webgpu.reason).toMatch(/software|SwiftShader/);
    },
    SLOW,
  );
});
