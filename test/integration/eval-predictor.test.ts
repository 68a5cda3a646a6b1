/**
 * The predictor process the service predicts in (eval/predictor-client.ts): it gives the same
 * probabilities as predicting in this process, reports progress and unreadable files, and a crash
 * fails only the job in flight, with the reason; the next job starts a fresh process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../main/backend/tfjs-backend';
import { ProcessPredictor } from '../../main/eval/predictor-client';
import { LocalPredictor, type PredictJob } from '../../main/eval/predictor';
import { buildEfficientNet } from '../../main/model/builder';
import { saveModelFolder } from '../../main/model/manager/model-folder';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { writeTrainImages } from '../fixtures/train-project';

let dir: string;
let job: PredictJob;
let images: { id: number; path: string }[];
const local = new LocalPredictor();
const child = new ProcessPredictor();

beforeAll(async () => {
  dir = makeTempDir('eval-predictor');
  await useBackend('wasm');
  // an untrained tiny model is enough: the point is that both processes compute the same thing
  const model = buildEfficientNet('phi=-8', { classes: 3, resolution: 32, includeTop: true, seed: 3 });
  const modelDir = path.join(dir, 'model');
  await saveModelFolder(model, modelDir, { variant: 'phi=-8', resolution: 32, classes: 3, input: 'RGB 0..255' });
  model.dispose();
  job = { model: { dir: modelDir, resolution: 32, classes: 3 }, backend: 'wasm' };
  const files = Object.values(await writeTrainImages(path.join(dir, 'images'), 20)).flat();
  images = files.map((file, i) => ({ id: i + 1, path: file }));
}, 60_000);

afterAll(() => {
  child.close();
  local.close();
  removeDir(dir);
});

async function predictAll(predictor: LocalPredictor | ProcessPredictor, list = images) {
  const probs = new Map<number, Float32Array>();
  const progress: [number, number][] = [];
  const result = await predictor.predictFiles(job, list, {
    onBatch: (batch) => batch.forEach((p) => probs.set(p.id, p.probs)),
    onProgress: (done, total) => progress.push([done, total]),
  });
  return { probs, progress, ...result };
}

describe('the predictor process', () => {
  it('predicts what this process predicts, with progress and the unreadable files named', { timeout: 120_000 }, async () => {
    const broken = path.join(dir, 'broken.png');
    fs.writeFileSync(broken, 'not a png');
    const list = [...images, { id: 900, path: broken }, { id: 901, path: path.join(dir, 'gone.png') }];
    const here = await predictAll(local, list);
    const there = await predictAll(child, list);
    expect(there.backend).toBe('wasm');
    expect(there.probs.size).toBe(images.length);
    for (const [id, probs] of here.probs) Array.from(probs).forEach((p, c) => expect(there.probs.get(id)![c]).toBeCloseTo(p, 5));
    expect(there.skipped).toEqual([
      { id: 900, path: broken, reason: expect.stringMatching(new RegExp(`^cannot read ${broken}: `)) },
      { id: 901, path: path.join(dir, 'gone.png'), reason: 'the file no longer exists' },
    ]);
    expect(there.progress.at(-1)).toEqual([list.length, list.length]);
    expect(there.progress.map(([done]) => done)).toEqual([...there.progress.map(([done]) => done)].sort((a, b) => a - b));
    // one image's pixels
    const pixels = new Float32Array(32 * 32 * 3).fill(128);
    const a = await local.predictPixels(job, pixels);
    const b = await child.predictPixels(job, pixels);
    Array.from(a).forEach((p, c) => expect(b[c]).toBeCloseTo(p, 5));
  });

  it('a crash fails the job in flight with the reason; the next job gets a fresh process', { timeout: 120_000 }, async () => {
    const many = Array.from({ length: 6 }, () => images).flat().map((image, i) => ({ ...image, id: i + 1 }));
    const firstPid = child.pid;
    expect(firstPid).not.toBeNull();
    let killed = false;
    const crashed = child.predictFiles(job, many, {
      onBatch: () => undefined,
      onProgress: (done, total) => {
        if (!killed && done < total) {
          killed = true;
          process.kill(firstPid!, 'SIGKILL');
        }
      },
    });
    await expect(crashed).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/^the predictor process ended \(killed by SIGKILL/) });
    expect(killed).toBe(true);
    const again = await predictAll(child, images.slice(0, 3));
    expect(again.probs.size).toBe(3);
    expect(child.pid).not.toBe(firstPid);
  });

  it('refuses work once closed', async () => {
    const closed = new ProcessPredictor();
    closed.close();
    await expect(closed.predictPixels(job, new Float32Array(32 * 32 * 3))).rejects.toMatchObject({ code: 'cancelled' });
  });
});
