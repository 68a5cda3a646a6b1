/**
 * An arena larger than one storage binding, in pages (arena-pages.ts): the WGSL rewrite that routes
 * every arena access through its page, and, on the GPU (SwiftShader without one), a training step and
 * a forward plan paged across several buffers computing exactly what the same plans compute on one
 * buffer (same weights, batch and kernels: bit for bit), in mixed precision too, and float16 tensors
 * across the half arena's pages, where the adapter has shader-f16 (lavapipe: EFFITUNE_TEST_F16_ICD).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Arena, ArenaLayout } from '../../../main/engine/arena';
import { arenaCapacity, pageBinding, pagedWgsl, routeAccesses } from '../../../main/engine/arena-pages';
import { encodeAndSubmit, KernelContext, KernelParams, perElementWgsl, reader, writer } from '../../../main/engine/dispatch';
import { buildNetworkGraph, type NetworkGraph } from '../../../main/engine/plan/network-graph';
import { countTrainingStep, planForward, planTrainingStep, type TrainingStepOptions } from '../../../main/engine/plan/step-plan';
import { getVariant } from '../../../main/model/variants';
import { deviceOrSkip } from '../../fixtures/engine-gpu';
import { engineWeights, model as modelOf, pixels as pixelsOf, type StepCase } from '../../fixtures/engine-step';

if (process.env.EFFITUNE_TEST_F16_ICD && !process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = process.env.EFFITUNE_TEST_F16_ICD;

describe('arena pages: the WGSL rewrite', () => {
  const route = (code: string) => routeAccesses(code, 'mem', 'ld', 'st');
  it('routes reads, stores and compound stores, nested ones too, and leaves other buffers alone', () => {
    expect(route('let a = mem[x + mem[y]];')).toBe('let a = ld(x + ld(y));');
    expect(route('mem[o] = v * mem[p];')).toBe('st(o, v * ld(p));');
    expect(route('mem[M + 1u] += t.x;')).toBe('st(M + 1u, ld(M + 1u) + (t.x));');
    expect(route('if (c) { mem[i] = s; }')).toBe('if (c) { st(i, s); }');
    expect(route('let e = mem[i] == 0.0;')).toBe('let e = ld(i) == 0.0;');
    expect(route('tile[l] = mem[a[k]]; smem[l] = mem16[j];')).toBe('tile[l] = ld(a[k]); smem[l] = mem16[j];');
    expect(route('mem[params[0].x + i] = select(0.0, mem[j], (k < 3u));')).toBe('st(params[0].x + i, select(0.0, ld(j), (k < 3u)));');
  });

  it('declares the pages at their bindings; a kind on one page keeps its binding and direct indexing', () => {
    const f32 = '@group(0) @binding(0) var<storage, read_write> mem: array<f32>;';
    const half = '@group(0) @binding(1) var<storage, read_write> mem16: array<f16>;';
    const code = `enable subgroups;\n${f32}\nfn main() { mem[1u] = f32(mem16[2u]); }`;
    const paged = pagedWgsl(code, { f32Pages: 3, f32Shift: 20, halfPages: 1, halfShift: 32 }, f32, half);
    expect(paged).toMatch(/^enable f16;\s*enable subgroups;/);
    for (const [k, binding] of [[0, 0], [1, 2], [2, 3]]) expect(paged).toContain(`@group(0) @binding(${binding}) var<storage, read_write> mem_${k}: array<f32>;`);
    expect(paged).toContain(half);
    expect(paged).toContain('arena_store(1u, f32(mem16[2u]));');
    expect(paged).not.toContain(f32);
    expect(pageBinding({ f32Pages: 3, f32Shift: 20, halfPages: 2, halfShift: 21 }, true, 1)).toBe(4);
    // capacity: up to 4 float32 and 2 float16 pages of the largest power of two within a binding
    expect(arenaCapacity(2 ** 32 - 1)).toEqual({ pageBytes: 2 ** 31, f32: 2 ** 33, half: 2 ** 32 });
    expect(arenaCapacity(128 * 2 ** 20).f32).toBe(512 * 2 ** 20);
  });
});

const BUILD = { classes: 3, resolution: 32, dropout: 0, dropConnect: 0, seed: 5 };
const CASE: StepCase = { variant: getVariant('phi=-6'), build: BUILD, batch: 3 };

/** The smallest power of two at least a quarter of `bytes`, so that the arena lies on 3–4 pages. */
const quarterPage = (bytes: number) => 2 ** Math.ceil(Math.log2(bytes / 4));

describe('arena pages on the GPU', () => {
  let graph: NetworkGraph;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    graph = buildNetworkGraph(CASE.variant, BUILD);
  });

  const step = async (f16: boolean, context: Parameters<typeof deviceOrSkip>[0]) => {
    const gpu = await deviceOrSkip(context);
    if (!gpu) return;
    if (f16 && !gpu.features.f16) return context.skip('this adapter has no shader-f16 (SwiftShader): the half arena pages on lavapipe or a GPU');
    const options: TrainingStepOptions = { batch: CASE.batch, mode: 'full', optimizer: { kind: 'adam', weightDecay: 0 }, labelSmoothing: 0.1, classWeights: null, seed: 3, f16Activations: f16 };
    const counted = countTrainingStep(graph, options);
    const pageBytes = quarterPage(f16 ? Math.max(counted.halfArenaBytes, counted.arenaBytes - counted.halfArenaBytes) : counted.arenaBytes);
    const m = modelOf(CASE);
    const x = pixelsOf(CASE, 4);
    const labels = Int32Array.from({ length: CASE.batch }, (_, i) => i % 3);
    const run = async (paged: boolean) => {
      const plan = planTrainingStep(gpu, graph, paged ? { ...options, bindingBytes: pageBytes } : options);
      await plan.loadWeights(m);
      plan.setBatch(x, labels);
      plan.step(1e-3);
      plan.step(1e-3);
      const metrics = await plan.readMetrics();
      const weights = await engineWeights(plan);
      const paging = plan.arena.paging;
      // the forward plan a run validates on, over the stepped weights
      const forward = planForward(gpu, graph, paged ? { batch: CASE.batch, bindingBytes: pageBytes, f16Activations: f16 } : { batch: CASE.batch, f16Activations: f16 });
      forward.copyParamsFrom(plan);
      forward.setPixels(x);
      forward.run();
      const { probabilities } = await forward.read();
      forward.destroy();
      plan.destroy();
      return { metrics, weights, paging, probabilities };
    };
    const one = await run(false);
    const pages = await run(true);
    m.dispose();
    expect(gpu.error()).toBeNull();
    expect(one.paging.f32Pages).toBe(1);
    // (in mixed precision the float32 arena, with the parameters, gradients and moments, is the larger: it is the one paged here)
    expect(pages.paging.f32Pages).toBeGreaterThanOrEqual(3);
    expect(pages.metrics).toEqual(one.metrics);
    expect(pages.probabilities).toEqual(one.probabilities);
    let compared = 0;
    for (const [name, w] of one.weights) {
      expect(pages.weights.get(name), name).toEqual(w);
      compared += w.length;
    }
    expect(compared).toBeGreaterThan(100_000);
  };

  it('a training step and the forward after it, paged over 3–4 buffers, equal the same plans on one buffer bit for bit', { timeout: 600_000 }, (context) => step(false, context));
  it('mixed precision: its float32 arena paged beside the half arena', { timeout: 600_000 }, (context) => step(true, context));

  it('a half arena on two pages: float16 tensors written and read across the page boundary', async (context) => {
    const gpu = await deviceOrSkip(context);
    if (!gpu) return;
    if (!gpu.features.f16) return context.skip('this adapter has no shader-f16 (SwiftShader): the half arena pages on lavapipe or a GPU');
    // pages of 2 KiB: 1,500 float16 values take two, 2 × 500 float32 values two
    const PAGE = 2048;
    const layout = new ArenaLayout(arenaCapacity(PAGE).f32);
    const a = layout.add('a', 500);
    const b = layout.add('b', 500);
    const halfLayout = new ArenaLayout(arenaCapacity(PAGE).half, true);
    const h = halfLayout.add('h', 1500);
    const arena = new Arena(gpu.device, layout, halfLayout, PAGE);
    expect(arena.paging).toMatchObject({ f32Pages: 2, halfPages: 2 });
    const ctx = new KernelContext(gpu.device, arena);
    const fill = new KernelParams();
    const write = writer(fill, 'h', h);
    const fromA = reader(fill, 'a', a);
    const first = ctx.dispatch('fill h', perElementWgsl(64, 1500, `  ${write('i', `f32(i % 256u) * 0.5 + ${fromA('i % 500u')}`)};`), Math.ceil(1500 / 64), fill);
    const back = new KernelParams();
    const toB = writer(back, 'b', b);
    const fromH = reader(back, 'h', h);
    const second = ctx.dispatch('read h', perElementWgsl(64, 500, `  ${toB('i', fromH('i + 1000u'))};`), Math.ceil(500 / 64), back);
    arena.write(a, new Float32Array(500).fill(0.25));
    encodeAndSubmit(arena, [first, second]);
    const [got] = await arena.read([b]);
    arena.destroy();
    expect(gpu.error()).toBeNull();
    expect(Array.from(got)).toEqual(Array.from({ length: 500 }, (_, j) => ((j + 1000) % 256) * 0.5 + 0.25));
  });
});
