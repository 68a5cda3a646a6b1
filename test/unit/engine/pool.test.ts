import { describe, expect, it } from 'vitest';
import { globalAvgPool, globalAvgPoolBackward, seScale, seScaleGrad, seScaleInputGrad, type SpatialShape } from '../../../main/engine/kernels/pool';
import { benchOf, deviceRequired, maxRelativeError, randomArray, reductionPaths, testDevice } from '../../fixtures/engine-gpu';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

async function device() {
  const gpu = await testDevice();
  if (typeof gpu === 'string' && deviceRequired()) throw new Error(gpu);
  return gpu;
}

describe('engine global pool and squeeze-excitation scale (WebGPU; SwiftShader without a GPU)', () => {
  const shapes: SpatialShape[] = [
    { n: 2, h: 9, w: 9, c: 7 },
    { n: 3, h: 5, w: 7, c: 37 },
    { n: 2, h: 6, w: 5, c: 3 },
  ];
  for (const s of shapes) {
    it(`n=${s.n} ${s.h}×${s.w}×${s.c}: pool, its backward, the scale and both its gradients match float64`, async (context) => {
      const gpu = await device();
      if (typeof gpu === 'string') return context.skip(gpu);
      for (const path of reductionPaths(gpu)) {
        const hw = s.h * s.w;
        const total = s.n * hw * s.c;
        const x = randomArray(total, 31);
        const dy = randomArray(total, 32);
        const pre = randomArray(s.n * s.c, 33).map((v) => 3 * v);
        const scale = pre.map(sigmoid);
        const dPooled = randomArray(s.n * s.c, 34);
        const base = randomArray(total, 35);
        const b = benchOf(gpu, { x, dy, pre, scale, dPooled, pooled: s.n * s.c, dxPool: total, dxAdd: base, y: total, ds: s.n * s.c, dsPre: s.n * s.c, dx: total, dxPlain: total }, path.subgroupSize);
        const t = b.t;
        b.run([
          globalAvgPool(b.ctx, t.x, t.pooled, s),
          globalAvgPoolBackward(b.ctx, t.dPooled, t.dxPool, s),
          globalAvgPoolBackward(b.ctx, t.dPooled, t.dxAdd, s, true),
          seScale(b.ctx, t.x, t.scale, t.y, s),
          seScaleGrad(b.ctx, t.x, t.dy, t.ds, s),
          seScaleGrad(b.ctx, t.x, t.dy, t.dsPre, s, { through: { activation: 'sigmoid', pre: t.pre } }),
          seScaleInputGrad(b.ctx, t.dy, t.scale, t.dx, s, { poolGrad: t.dPooled }),
          seScaleInputGrad(b.ctx, t.dy, t.scale, t.dxPlain, s),
        ]);
        const [pooled, dxPool, dxAdd, y, ds, dsPre, dx, dxPlain] = await b.read('pooled', 'dxPool', 'dxAdd', 'y', 'ds', 'dsPre', 'dx', 'dxPlain');
        expect(gpu.error()).toBeNull();
        const nc = (i: number) => Math.floor(i / (hw * s.c)) * s.c + (i % s.c);
        const sums = (f: (i: number) => number) => {
          const out = new Float64Array(s.n * s.c);
          for (let i = 0; i < total; i++) out[nc(i)] += f(i);
          return out;
        };
        const refDs = sums((i) => dy[i] * x[i]);
        expect(maxRelativeError(pooled, sums((i) => x[i] / hw)), path.name).toBeLessThan(1e-5);
        expect(maxRelativeError(dxPool, Array.from(x, (_, i) => dPooled[nc(i)] / hw)), path.name).toBeLessThan(1e-6);
        expect(maxRelativeError(dxAdd, Array.from(x, (_, i) => base[i] + dPooled[nc(i)] / hw)), path.name).toBeLessThan(1e-6);
        expect(maxRelativeError(y, Array.from(x, (v, i) => v * scale[nc(i)])), path.name).toBeLessThan(1e-6);
        expect(maxRelativeError(ds, refDs), path.name).toBeLessThan(1e-4);
        expect(maxRelativeError(dsPre, Array.from(refDs, (v, j) => v * scale[j] * (1 - scale[j]))), path.name).toBeLessThan(1e-4);
        expect(maxRelativeError(dx, Array.from(dy, (d, i) => d * scale[nc(i)] + dPooled[nc(i)] / hw)), path.name).toBeLessThan(1e-5);
        expect(maxRelativeError(dxPlain, Array.from(dy, (d, i) => d * scale[nc(i)])), path.name).toBeLessThan(1e-6);
        expect(Math.max(...Array.from(ds, Math.abs))).toBeGreaterThan(1);
        b.destroy();
      }
    });
  }
});
