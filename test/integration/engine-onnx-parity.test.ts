/**
 * Issue 13, "same model in and out": a run trained on our WebGPU engine (engine: 'effitune';
 * SwiftShader without a GPU), exported to ONNX through export.run (what `effitune export --format
 * onnx` calls), gives in onnxruntime-node (CPU provider) the probabilities the engine's own inference
 * plan gives with the run's final weights loaded from its model folder: within 1e-4, same top-1, on
 * project images decoded as the export's predict decodes them. Both sides take RGB 0..255: the
 * normalisation is inside the model and inside the engine's graph.
 *
 * One short run (φ = −8 at 32 px, batch 4, 2 epochs): SwiftShader compiles every kernel of the
 * training plan and of the inference plan (about 30 s in all on two cores). TF.js runs on the CPU
 * backend for what is not an engine step (validation, checkpoints, the export's own checks).
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainOptions, type TrainNote } from '../../main/contract/calls-train';
import { useBackend, type ActiveBackend } from '../../main/backend/tfjs-backend';
import { preprocessForInference } from '../../main/dataset/image-pixels';
import { buildNetworkGraph } from '../../main/engine/plan/network-graph';
import { planForward } from '../../main/engine/plan/step-plan';
import { argmax } from '../../main/export/predict/predict-images';
import { MODEL_ONNX } from '../../main/export/predict/prediction-model';
import { loadModelFolder } from '../../main/model/manager/model-folder';
import { getVariant } from '../../main/model/variants';
import { getRun } from '../../main/project/runs';
import { Service } from '../../main/service/service';
import { RunControl } from '../../main/train/control';
import { createTrainingRun } from '../../main/train/new-run';
import { trainRun } from '../../main/train/train-run';
import { deviceRequired, testDevice } from '../fixtures/engine-gpu';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject, type TrainProject } from '../fixtures/train-project';

const RUN = { model: 'phi=-8', resolution: 32, batch: 4, mode: 'full', epochs: 2, patience: 0, lr: 5e-3, augment: { scaleMin: 0.5 }, seed: 5, engine: 'effitune' };
/** images compared: one inference-plan batch */
const IMAGES = 6;
const TOLERANCE = 1e-4;

let dir: string;
let project: TrainProject;
let backend: ActiveBackend;
let service: Service | undefined;
let noDevice: string | null = null;
const savedHome = process.env.EFFITUNE_HOME;

beforeAll(async () => {
  const gpu = await testDevice();
  if (typeof gpu === 'string') {
    if (deviceRequired()) throw new Error(gpu);
    noDevice = gpu;
    return;
  }
  dir = makeTempDir('engine-onnx');
  process.env.EFFITUNE_HOME = path.join(dir, 'effitune-home');
  backend = await useBackend('cpu');
  project = await createTrainProject(dir, 6);
}, 120_000);

afterAll(() => {
  service?.close();
  project?.registry.closeAll();
  removeDir(dir);
  if (savedHome === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = savedHome;
});

describe('a run trained on the Effitune WebGPU engine, exported to ONNX', () => {
  it('gives in onnxruntime the probabilities of the engine’s own forward pass (≤ 1e-4, same top-1)', { timeout: 900_000 }, async (context) => {
    if (noDevice) return context.skip(noDevice);
    const started = performance.now();
    const seconds = () => ((performance.now() - started) / 1000).toFixed(0);

    // 1. train on the engine
    const { run } = createTrainingRun(project.handle, TrainOptions.parse(RUN));
    const notes: TrainNote[] = [];
    const result = await trainRun({
      db: project.handle.db,
      runId: run.id,
      checkpointRoot: project.registry.sideFolder(project.file, `runs/${run.id}`),
      backend,
      resume: false,
      control: new RunControl(),
      reporter: { started: () => undefined, progress: () => undefined, epoch: () => undefined, status: () => undefined, note: (n) => notes.push(n) },
    });
    expect(result.status, result.reason).toBe('completed');
    expect(notes.map((n) => n.message).join('\n')).toMatch(/training steps on the Effitune WebGPU engine/);
    const trained = getRun(project.handle.db, run.id);
    const classes = trained.classes.length;
    const trainedAt = seconds();

    // 2. export it as ONNX through the service's export.run (the CLI's `effitune export --format onnx`)
    service = new Service({ mode: 'cli', dataDir: path.join(dir, 'service-home') });
    const exported = await service.call('export.run', { project: project.file, runId: run.id, format: 'onnx', out: path.join(dir, 'export-onnx') });
    expect(exported.format).toBe('onnx');
    const exportedAt = seconds();

    // a few project images, decoded as the export's predict decodes them (RGB 0..255, NHWC)
    const files = Object.values(project.files).flatMap((f) => f.slice(0, IMAGES / 3));
    expect(files).toHaveLength(IMAGES);
    const size = RUN.resolution * RUN.resolution * 3;
    const pixels = new Float32Array(IMAGES * size);
    for (const [i, file] of files.entries()) pixels.set(await preprocessForInference(file, RUN.resolution), i * size);

    // 3a. the exported file in onnxruntime-node on the CPU
    const session = await ort.InferenceSession.create(path.join(exported.dir, MODEL_ONNX), { executionProviders: ['cpu'] });
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', pixels.slice(), [IMAGES, RUN.resolution, RUN.resolution, 3]) });
    const onnx = Float32Array.from(out[session.outputNames[0]].data as Float32Array);
    await session.release();
    expect(onnx).toHaveLength(IMAGES * classes);

    // 3b. the engine's inference plan with the run's final weights, read from its model folder
    const gpu = await testDevice();
    if (typeof gpu === 'string') throw new Error(gpu);
    const { model } = await loadModelFolder(result.modelDir!);
    const graph = buildNetworkGraph(getVariant(trained.variant), { classes, resolution: trained.resolution });
    const plan = planForward(gpu, graph, { batch: IMAGES });
    let engine: Float32Array;
    try {
      await plan.loadWeights(model);
      plan.setPixels(pixels);
      plan.run();
      engine = (await plan.read()).probabilities;
      expect(gpu.error()).toBeNull();
    } finally {
      plan.destroy();
      model.dispose();
    }

    // 4. the same probabilities and the same top-1 for every image
    let worst = 0;
    for (let i = 0; i < onnx.length; i++) worst = Math.max(worst, Math.abs(onnx[i] - engine[i]));
    const row = (p: Float32Array, i: number) => p.subarray(i * classes, (i + 1) * classes);
    const top1 = (p: Float32Array) => Array.from({ length: IMAGES }, (_, i) => argmax(row(p, i)));
    // the trained model tells the images apart: its probabilities are not one row repeated (a check that could pass on a constant)
    const spread = Math.max(...Array.from({ length: classes }, (_, k) => {
      const column = Array.from({ length: IMAGES }, (_, i) => engine[i * classes + k]);
      return Math.max(...column) - Math.min(...column);
    }));
    console.log(
      `engine → ONNX parity: worst |Δp| ${worst.toExponential(2)} over ${IMAGES} images × ${classes} classes; spread of p across images ${spread.toFixed(3)}; ` +
        `top-1 onnx ${top1(onnx).join(',')} engine ${top1(engine).join(',')}; trained in ${trainedAt} s, exported by ${exportedAt} s, done at ${seconds()} s`,
    );
    expect(spread).toBeGreaterThan(1e-3);
    for (let i = 0; i < IMAGES; i++) expect(Math.abs(row(engine, i).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
    expect(top1(engine)).toEqual(top1(onnx));
  });
});
