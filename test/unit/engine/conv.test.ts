import { describe, expect, it } from 'vitest';
import type { EngineDevice } from '../../../main/engine/gpu-device';
import { convForward, convGeometry, convInputGrad, convWeightGrad, convWeightGradScratchElements, type ConvShape } from '../../../main/engine/kernels/conv';
import { columnReduce, columnReduceScratchElements, type GemmTiles } from '../../../main/engine/kernels/gemm';
import { benchOf, maxRelativeError, randomArray, deviceOrSkip } from '../../fixtures/engine-gpu';

const device = deviceOrSkip;

interface Reference {
  y: Float64Array;
  dx: Float64Array;
  dw: Float64Array;
  db: Float64Array;
}

/**
 * The convolution and its gradients in float64, written as one loop over every (output pixel, tap,
 * in-channel, out-channel) product that is inside the image, each product's contributions to y and
 * to the gradients by their explicit formulas (dx += dy·w, dw += x·dy): a scatter, not the kernels' gathers.
 */
function reference(s: ConvShape, x: Float32Array, w: Float32Array, bias: Float32Array, dy: Float32Array): Reference {
  const { outHeight: OH, outWidth: OW, padTop, padLeft } = convGeometry(s);
  const { batch, height: H, width: W, inChannels: CI, outChannels: CO, kernel: k, stride } = s;
  const r: Reference = { y: new Float64Array(batch * OH * OW * CO), dx: new Float64Array(x.length), dw: new Float64Array(w.length), db: new Float64Array(CO) };
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const o = ((b * OH + oh) * OW + ow) * CO;
        for (let co = 0; co < CO; co++) {
          r.y[o + co] += bias[co];
          r.db[co] += dy[o + co];
        }
        for (let kh = 0; kh < k; kh++) {
          const ih = oh * stride + kh - padTop;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < k; kw++) {
            const iw = ow * stride + kw - padLeft;
            if (iw < 0 || iw >= W) continue;
            for (let ci = 0; ci < CI; ci++) {
              const xi = ((b * H + ih) * W + iw) * CI + ci;
              for (let co = 0; co < CO; co++) {
                const wi = ((kh * k + kw) * CI + ci) * CO + co;
                r.y[o + co] += x[xi] * w[wi];
                r.dx[xi] += dy[o + co] * w[wi];
                r.dw[wi] += x[xi] * dy[o + co];
              }
            }
          }
        }
      }
    }
  }
  return r;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const TOLERANCE = 1e-4;

interface Case {
  shape: ConvShape;
  /** forward with + bias and swish (pre-activation kept); else the plain product */
  fused?: boolean;
  /** force split-K in the weight gradient */
  splitK?: number;
  /** input gradient accumulated into an initial value */
  accumulate?: boolean;
  tiles?: GemmTiles;
  /** the stem's input is the image: no input gradient */
  noInputGrad?: boolean;
}

/** Runs forward, input, weight and bias gradients of `c` on the GPU and compares each with float64. */
async function check(gpu: EngineDevice, c: Case, seed: number): Promise<void> {
  const s = c.shape;
  const g = convGeometry(s);
  const outPixels = s.batch * g.outHeight * g.outWidth;
  const x = randomArray(s.batch * s.height * s.width * s.inChannels, seed);
  const w = randomArray(s.kernel * s.kernel * s.inChannels * s.outChannels, seed + 1);
  const bias = c.fused ? randomArray(s.outChannels, seed + 2) : new Float32Array(s.outChannels);
  const dy = randomArray(outPixels * s.outChannels, seed + 3);
  const dx0 = c.accumulate ? randomArray(x.length, seed + 4) : new Float32Array(x.length).fill(Number.NaN);
  const wgradScratch = convWeightGradScratchElements(s, { splitK: c.splitK });
  const biasScratch = columnReduceScratchElements(outPixels, s.outChannels);
  const bench = benchOf(gpu, {
    x, w, bias, dy, dx: dx0,
    y: outPixels * s.outChannels, pre: outPixels * s.outChannels, dw: w.length, db: s.outChannels,
    ...(wgradScratch ? { wgradScratch } : {}),
    ...(biasScratch ? { biasScratch } : {}),
  });
  const { t, ctx } = bench;
  const forward = c.fused ? { bias: t.bias, activation: 'swish' as const, preActivation: t.pre, tiles: c.tiles } : { tiles: c.tiles };
  const wgrad = convWeightGrad(ctx, t.x, t.dy, t.dw, s, { splitK: c.splitK, scratch: t.wgradScratch, tiles: c.tiles });
  if (c.splitK) expect(wgrad).toHaveLength(2);
  bench.run([
    ...convForward(ctx, t.x, t.w, t.y, s, forward),
    ...(c.noInputGrad ? [] : convInputGrad(ctx, t.dy, t.w, t.dx, s, { accumulate: c.accumulate, tiles: c.tiles })),
    ...wgrad,
    ...columnReduce(ctx, t.dy, t.db, { rows: outPixels, cols: s.outChannels }, { scratch: t.biasScratch }),
  ]);
  const [y, pre, dx, dw, db] = await bench.read('y', 'pre', 'dx', 'dw', 'db');
  const want = reference(s, x, w, bias, dy);
  const label = JSON.stringify(c);
  if (c.fused) {
    expect(maxRelativeError(pre, want.y), label).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(y, want.y.map((v) => v * sigmoid(v))), label).toBeLessThan(TOLERANCE);
  } else {
    expect(maxRelativeError(y, want.y), label).toBeLessThan(TOLERANCE);
  }
  if (!c.noInputGrad) expect(maxRelativeError(dx, c.accumulate ? want.dx.map((v, i) => v + dx0[i]) : want.dx), label).toBeLessThan(TOLERANCE);
  expect(maxRelativeError(dw, want.dw), label).toBeLessThan(TOLERANCE);
  expect(maxRelativeError(db, want.db), label).toBeLessThan(TOLERANCE);
  expect(gpu.error()).toBeNull();
  bench.destroy();
}

const odd = { batch: 2, height: 9, width: 9, inChannels: 5, outChannels: 7 };

describe('engine k×k convolution as implicit GEMM (WebGPU; SwiftShader without a GPU)', () => {
  it('TF SAME geometry: out = ceil(in / stride), the odd padding pixel after', () => {
    expect(convGeometry({ ...odd, kernel: 3, stride: 1 })).toEqual({ outHeight: 9, outWidth: 9, padTop: 1, padLeft: 1 });
    expect(convGeometry({ ...odd, kernel: 3, stride: 2 })).toEqual({ outHeight: 5, outWidth: 5, padTop: 1, padLeft: 1 });
    expect(convGeometry({ ...odd, height: 8, width: 224, kernel: 3, stride: 2 })).toEqual({ outHeight: 4, outWidth: 112, padTop: 0, padLeft: 0 });
    expect(convGeometry({ ...odd, kernel: 5, stride: 2 })).toEqual({ outHeight: 5, outWidth: 5, padTop: 2, padLeft: 2 });
    expect(convGeometry({ ...odd, height: 8, width: 8, kernel: 5, stride: 2 })).toEqual({ outHeight: 4, outWidth: 4, padTop: 1, padLeft: 1 });
  });

  it('the float64 reference gradients are the adjoints of its forward (⟨dy, conv(x)⟩ = ⟨dx, x⟩ = ⟨dw, w⟩)', () => {
    const s = { ...odd, height: 8, width: 7, kernel: 3, stride: 2 };
    const g = convGeometry(s);
    const x = randomArray(s.batch * s.height * s.width * s.inChannels, 1);
    const w = randomArray(9 * s.inChannels * s.outChannels, 2);
    const dy = randomArray(s.batch * g.outHeight * g.outWidth * s.outChannels, 3);
    const r = reference(s, x, w, new Float32Array(s.outChannels), dy);
    const energy = dot(dy, r.y);
    expect(Math.abs(energy)).toBeGreaterThan(1);
    expect(dot(r.dx, x)).toBeCloseTo(energy, 9);
    expect(dot(r.dw, w)).toBeCloseTo(energy, 9);
  });

  it('3×3 stride 1 and 2 over odd sizes: forward (fused bias + swish), input, weight (split-K) and bias gradients', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    await check(gpu, { shape: { ...odd, kernel: 3, stride: 1 }, fused: true }, 10);
    await check(gpu, { shape: { ...odd, kernel: 3, stride: 2 }, splitK: 3 }, 20);
  });

  it('5×5 stride 1 and 2 over odd sizes, the input gradient accumulated', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    await check(gpu, { shape: { ...odd, kernel: 5, stride: 1 }, accumulate: true }, 30);
    await check(gpu, { shape: { ...odd, kernel: 5, stride: 2 }, fused: true }, 40);
  });

  it('stride 2 over an even, non-square image (padding only after), and the stem (3 channels in)', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    await check(gpu, { shape: { ...odd, height: 8, width: 7, kernel: 3, stride: 2 }, accumulate: true }, 50);
    await check(gpu, { shape: { batch: 3, height: 11, width: 11, inChannels: 3, outChannels: 8, kernel: 3, stride: 2 }, fused: true, noInputGrad: true }, 60);
  });

  it('1×1 stride 2 on 64×16 tiles: the input phases no tap reaches get a zero gradient, or keep theirs when accumulating', async (context) => {
    const gpu = await device(context);
    if (!gpu) return;
    await check(gpu, { shape: { ...odd, kernel: 1, stride: 2 }, tiles: { tm: 64, tn: 16 } }, 70);
    await check(gpu, { shape: { ...odd, kernel: 1, stride: 2 }, accumulate: true }, 80);
  });
});
