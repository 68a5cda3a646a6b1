import { describe, expect, it } from 'vitest';
import { activationBackward, activationForward } from '../../../main/engine/kernels/activation';
import { benchOf, deviceRequired, maxRelativeError, randomArray, testDevice } from '../../fixtures/engine-gpu';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe('engine activations (WebGPU; SwiftShader without a GPU)', () => {
  it('swish and sigmoid forward and backward match float64 over an odd length', async (context) => {
    const gpu = await testDevice();
    if (typeof gpu === 'string') {
      if (deviceRequired()) throw new Error(gpu);
      return context.skip(gpu);
    }
    const n = 1000;
    const x = randomArray(n, 1).map((v) => v * 6);
    const dy = randomArray(n, 2);
    const b = benchOf(gpu, { x, dy, swish: n, sig: n, dswish: n, dsig: n });
    b.run([
      activationForward(b.ctx, 'swish', b.t.x, b.t.swish),
      activationForward(b.ctx, 'sigmoid', b.t.x, b.t.sig),
      activationBackward(b.ctx, 'swish', b.t.x, b.t.dy, b.t.dswish),
      activationBackward(b.ctx, 'sigmoid', b.t.x, b.t.dy, b.t.dsig),
    ]);
    const [swish, sig, dswish, dsig] = await b.read('swish', 'sig', 'dswish', 'dsig');
    const ref = (f: (v: number, i: number) => number) => Array.from(x, f);
    expect(maxRelativeError(swish, ref((v) => v * sigmoid(v)))).toBeLessThan(1e-5);
    expect(maxRelativeError(sig, ref((v) => sigmoid(v)))).toBeLessThan(1e-5);
    expect(maxRelativeError(dswish, ref((v, i) => dy[i] * sigmoid(v) * (1 + v * (1 - sigmoid(v)))))).toBeLessThan(1e-5);
    expect(maxRelativeError(dsig, ref((v, i) => dy[i] * sigmoid(v) * (1 - sigmoid(v))))).toBeLessThan(1e-5);
    expect(gpu.error()).toBeNull();
    b.destroy();
  });
});
