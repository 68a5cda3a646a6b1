/**
 * Does the default recipe learn? On small generated data sets of several kinds, our default
 * (EfficientNet from scratch, full mode, every training option left to the recipe) against two
 * baselines written here in TF.js on the same backend: a logistic regression on raw pixels and a
 * two-layer CNN. The same split (val 0.2 for choosing the epoch, test 0.2 for the score) and the
 * same wall-clock budget: each baseline trains, epoch after epoch, for as long as our default run
 * took (its data pipeline, validation and checkpoints included), and is scored at its best
 * validation epoch, as our run keeps its best epoch.
 *
 *   npm run bench -- recipe [--per-class 100] [--model phi=-8] [--sets tiny-gray,textures,shapes,imbalanced]
 *                           [--max-seconds 600] [--backend wasm] [--fixed] [--options JSON] [--arms default,logistic,cnn2,pretrained]
 *                           [--pretrain-seconds 900] [--source-per-class 200] [--pretrained-options JSON] [--fresh-pretrain]
 *
 * --max-seconds caps our run (it is cancelled and scored at its best epoch, like a finished run).
 * The default (600 s) is a safety cap: on two CPU cores the recipe's whole schedule on these sets
 * takes about 2–6 minutes, and the baselines get exactly what it took. A lower cap cuts our run in
 * its schedule's high-learning-rate part (textures at 90 s: 0.88 against the CNN's 0.95; at its
 * full 228 s: 0.98 against 0.93), which says how it does when stopped early, not what it learns.
 * --arms runs only some arms (the baselines then get --max-seconds as their budget when the
 * default arm is left out).
 * Each set is judged by its own score: accuracy where the classes are balanced, balanced accuracy
 * (mean recall per class) on the imbalanced set; both are printed, with each arm's processor seconds.
 * --options '{"lr":0.005}' gives our arm train options on top of the recipe (to try a change to it).
 * --fixed adds the fixed ImageNet defaults (no data profile: today's behaviour) as a fourth arm, in the same budget.
 * The pretrained arm: there are no ImageNet weights on this machine and nothing may be downloaded,
 * so the bench first trains the same model from scratch on a source task of other shapes and
 * textures (--source-per-class images a class, --pretrain-seconds, not counted in any budget, as
 * ImageNet pretraining is not; kept in .cache/bench-recipe under a key of everything that decides it
 * and reused by the next bench, --fresh-pretrain trains again), writes
 * its backbone as a Keras applications .h5 file, and trains each set from that file with every
 * other option left to the recipe (--pretrained-options adds train options to that arm only), in the default run's budget. It shows that imported weights carry
 * learned filters into a run; it says nothing about how much ImageNet weights would help.
 * --pretrain-seconds 0 leaves that arm out.
 * Output: one JSON line per arm and set, then a summary line. Sets are cached in .cache/bench-recipe.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TrainOptions } from '../../main/contract/calls-train';
import type { BackendName } from '../../main/contract/calls-backend';
import { useBackend, type ActiveBackend } from '../../main/backend/tfjs-backend';
import { importFolder } from '../../main/dataset/import-folder';
import { preprocessForInference } from '../../main/dataset/image-pixels';
import { mulberry32 } from '../../main/dataset/sample';
import { splitProject } from '../../main/dataset/split';
import { splitImages } from '../../main/eval/evaluate-run';
import { loadModelFolder } from '../../main/model/manager/model-folder';
import { ProjectRegistry, type ProjectHandle } from '../../main/project/registry';
import { createRun, getRun, runHistory } from '../../main/project/runs';
import { epochDirName } from '../../main/train/checkpoint';
import { resolveTrainConfig } from '../../main/train/config';
import { RunControl } from '../../main/train/control';
import { checkTrainable } from '../../main/train/data/trainable';
import { profileTrainingData } from '../../main/train/recipe-data';
import { trainRun } from '../../main/train/train-run';
import { kerasLayersOfModel } from '../fixtures/model/tiny-weights-file';
import { writeKerasH5 } from '../fixtures/model/weight-files';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { cacheDir, emit, log, machine, option, round } from './lib/report';

// ---------- generated data sets ----------

type Random = () => number;
interface SetSpec {
  name: string;
  what: string;
  size: number;
  channels: 1 | 3;
  classes: string[];
  /** images of class k relative to --per-class */
  share?: number[];
  /**
   * what the set is judged by: accuracy where the classes are balanced; balanced accuracy (mean
   * recall per class) where they are not, since there predicting the largest class scores its share
   * in plain accuracy and is still useless
   */
  score: ScoreName;
  draw(className: string, random: Random): Uint8Array | string;
}

const SHAPES = ['circle', 'square', 'triangle', 'cross'];

function shapeElement(shape: string, cx: number, cy: number, r: number, stroke: number): string {
  if (shape === 'circle') return `<circle cx="${cx}" cy="${cy}" r="${r}"/>`;
  if (shape === 'square') return `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}"/>`;
  if (shape === 'triangle') return `<polygon points="${cx},${cy - r} ${cx - r},${cy + r} ${cx + r},${cy + r}"/>`;
  return `<g stroke-width="${stroke}" stroke-linecap="round"><line x1="${cx - r}" y1="${cy - r}" x2="${cx + r}" y2="${cy + r}"/><line x1="${cx + r}" y1="${cy - r}" x2="${cx - r}" y2="${cy + r}"/></g>`;
}

/** an SVG of one shape at a random place, size and colour on a random background, with `clutter` random lines */
function shapeSvg(size: number, shape: string, random: Random, clutter: number, grey: boolean): string {
  const colour = () => (grey ? `hsl(0,0%,${Math.round(random() * 100)}%)` : `hsl(${Math.round(random() * 360)},${50 + Math.round(random() * 50)}%,${30 + Math.round(random() * 40)}%)`);
  const r = size * (0.18 + random() * 0.14);
  const cx = r + 1 + random() * (size - 2 * r - 2);
  const cy = r + 1 + random() * (size - 2 * r - 2);
  const stroke = Math.max(2, r / 3);
  let lines = '';
  for (let i = 0; i < clutter; i++) lines += `<line x1="${random() * size}" y1="${random() * size}" x2="${random() * size}" y2="${random() * size}" stroke="${colour()}" stroke-width="${1 + random()}"/>`;
  // the shape's colour keeps a contrast with the background, or the class would sometimes be invisible
  const light = random() < 0.5;
  const background = grey ? `hsl(0,0%,${light ? 70 + Math.round(random() * 30) : Math.round(random() * 30)}%)` : colour();
  const fill = grey ? `hsl(0,0%,${light ? Math.round(random() * 35) : 65 + Math.round(random() * 35)}%)` : colour();
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="${size}" height="${size}" fill="${background}"/>${lines}<g fill="${fill}" stroke="${fill}">${shapeElement(shape, cx, cy, r, stroke)}</g></svg>`;
}

/** a colour texture: two random colours in stripes (horizontal, vertical, diagonal), a checkerboard, dots, zigzag stripes or rings */
function texture(size: number, kind: string, random: Random): Uint8Array {
  const a = [random() * 255, random() * 255, random() * 255];
  const b = a.map((v) => (v + 80 + random() * 95) % 255);
  const period = 4 + random() * 6;
  const phase = random() * period;
  const direction = random() < 0.5 ? 1 : -1;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let on: boolean;
      const u = (x + phase) / period;
      const v = (y + phase) / period;
      if (kind === 'horizontal') on = Math.floor(v) % 2 === 0;
      else if (kind === 'vertical') on = Math.floor(u) % 2 === 0;
      else if (kind === 'diagonal') on = Math.floor((x + direction * y + phase) / period) % 2 === 0;
      else if (kind === 'checker') on = (Math.floor(u) + Math.floor(v)) % 2 === 0;
      else if (kind === 'dots') on = (u % 1) ** 2 + (v % 1) ** 2 < 0.2;
      // the source task's textures (no target set has them): zigzag stripes and concentric rings
      else if (kind === 'zigzag') on = Math.floor(v + Math.abs((u % 2) - 1)) % 2 === 0;
      else on = Math.floor(Math.hypot(x - size * phase / period, y - size * (1 - phase / period)) / (period / 2)) % 2 === 0;
      const c = on ? a : b;
      for (let ch = 0; ch < 3; ch++) out[(y * size + x) * 3 + ch] = Math.max(0, Math.min(255, c[ch] + (random() - 0.5) * 40));
    }
  }
  return out;
}

const SETS: SetSpec[] = [
  { name: 'tiny-gray', what: '28×28 grayscale PNG, 4 filled shapes, light on dark or dark on light, 1 clutter line', size: 28, channels: 1, classes: SHAPES, score: 'accuracy', draw: (c, r) => shapeSvg(28, c, r, 1, true) },
  { name: 'textures', what: '40×40 colour, 5 textures (stripes 3 ways, checker, dots) in random colours and periods', size: 40, channels: 3, classes: ['horizontal', 'vertical', 'diagonal', 'checker', 'dots'], score: 'accuracy', draw: (c, r) => texture(40, c, r) },
  { name: 'shapes', what: '64×64 colour, 4 shapes in random colours on random backgrounds, 3 clutter lines', size: 64, channels: 3, classes: SHAPES, score: 'accuracy', draw: (c, r) => shapeSvg(64, c, r, 3, false) },
  { name: 'imbalanced', what: '32×32 colour, 3 shapes with 2 : 1 : 1/3 of the images, 2 clutter lines', size: 32, channels: 3, classes: SHAPES.slice(0, 3), share: [2, 1, 1 / 3], score: 'balancedAccuracy', draw: (c, r) => shapeSvg(32, c, r, 2, false) },
];

/**
 * The pretrained arm's source task: related to the targets (outlined and filled shapes, two-colour
 * textures, clutter, random colours) but sharing no class with any of them: other shapes (ring, plus,
 * bars, diamond) and other textures (zigzag stripes, rings), in colour at 40 px. A backbone trained on
 * it is no ImageNet backbone; it stands in for one to show that a start from imported weights (a real
 * Keras .h5, through the same loading code as a file of one's own) carries learned filters over.
 */
const SOURCE_SHAPES = ['ring', 'plus', 'hbar', 'vbar', 'diamond'];
function sourceShapeSvg(size: number, shape: string, random: Random): string {
  const colour = () => `hsl(${Math.round(random() * 360)},${50 + Math.round(random() * 50)}%,${25 + Math.round(random() * 50)}%)`;
  const r = size * (0.2 + random() * 0.12);
  const cx = r + 1 + random() * (size - 2 * r - 2);
  const cy = r + 1 + random() * (size - 2 * r - 2);
  const w = Math.max(2, r / 2.5);
  const element =
    shape === 'ring' ? `<circle cx="${cx}" cy="${cy}" r="${r - w / 2}" fill="none" stroke-width="${w}"/>`
    : shape === 'plus' ? `<g stroke-width="${w}"><line x1="${cx - r}" y1="${cy}" x2="${cx + r}" y2="${cy}"/><line x1="${cx}" y1="${cy - r}" x2="${cx}" y2="${cy + r}"/></g>`
    : shape === 'hbar' ? `<rect x="${cx - r}" y="${cy - w / 2}" width="${2 * r}" height="${w}"/>`
    : shape === 'vbar' ? `<rect x="${cx - w / 2}" y="${cy - r}" width="${w}" height="${2 * r}"/>`
    : `<polygon points="${cx},${cy - r} ${cx + r},${cy} ${cx},${cy + r} ${cx - r},${cy}"/>`;
  let lines = '';
  for (let i = 0; i < 2; i++) lines += `<line x1="${random() * size}" y1="${random() * size}" x2="${random() * size}" y2="${random() * size}" stroke="${colour()}" stroke-width="1"/>`;
  const fill = colour();
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="${size}" height="${size}" fill="${colour()}"/>${lines}<g fill="${fill}" stroke="${fill}">${element}</g></svg>`;
}
export const SOURCE_SET: SetSpec = {
  name: 'source',
  what: '40×40 colour, 5 other shapes (ring, plus, bars, diamond) + 2 other textures (zigzag, rings): the stand-in pretraining task',
  size: 40,
  channels: 3,
  classes: [...SOURCE_SHAPES, 'zigzag', 'rings'],
  score: 'accuracy',
  draw: (c, r) => (SOURCE_SHAPES.includes(c) ? sourceShapeSvg(40, c, r) : texture(40, c, r)),
};

export async function writeSet(spec: SetSpec, perClass: number, folder: string): Promise<void> {
  const marker = path.join(folder, 'complete.json');
  if (fs.existsSync(marker)) return;
  fs.rmSync(folder, { recursive: true, force: true });
  const random = mulberry32(spec.name.length * 7919 + perClass);
  for (const [k, className] of spec.classes.entries()) {
    const dir = path.join(folder, 'images', className);
    fs.mkdirSync(dir, { recursive: true });
    const count = Math.max(4, Math.round(perClass * (spec.share?.[k] ?? 1)));
    for (let i = 0; i < count; i++) {
      const drawn = spec.draw(className, random);
      let image = typeof drawn === 'string' ? sharp(Buffer.from(drawn)) : sharp(Buffer.from(drawn), { raw: { width: spec.size, height: spec.size, channels: 3 } });
      image = spec.channels === 1 ? image.toColourspace('b-w') : image.removeAlpha();
      await image.png().toFile(path.join(dir, `${className}-${i}.png`));
    }
  }
  fs.writeFileSync(marker, JSON.stringify({ perClass }));
}

// ---------- pixels of one split ----------

interface SplitPixels {
  x: Float32Array;
  y: Int32Array;
  count: number;
}

async function splitPixels(db: ProjectHandle['db'], split: 'train' | 'val' | 'test', classes: string[], resolution: number): Promise<SplitPixels> {
  const images = splitImages(db, split);
  const x = new Float32Array(images.length * resolution * resolution * 3);
  const y = new Int32Array(images.length);
  for (const [i, image] of images.entries()) {
    x.set(await preprocessForInference(image.path, resolution), i * resolution * resolution * 3);
    y[i] = classes.indexOf(image.className);
  }
  return { x, y, count: images.length };
}

interface Score {
  accuracy: number;
  /** mean recall over classes: what an imbalanced set needs */
  balancedAccuracy: number;
}
type ScoreName = keyof Score;

function score(predicted: ArrayLike<number>, truth: Int32Array, classes: number): Score {
  const hit = new Array(classes).fill(0);
  const total = new Array(classes).fill(0);
  let right = 0;
  for (let i = 0; i < truth.length; i++) {
    total[truth[i]]++;
    if (predicted[i] === truth[i]) {
      right++;
      hit[truth[i]]++;
    }
  }
  const recalls = total.map((n, k) => (n > 0 ? hit[k] / n : null)).filter((r): r is number => r !== null);
  return { accuracy: right / truth.length, balancedAccuracy: recalls.reduce((a, b) => a + b, 0) / recalls.length };
}

function predictClasses(model: tfl.LayersModel, pixels: SplitPixels, resolution: number, scale: (x: tf.Tensor) => tf.Tensor): Int32Array {
  return tf.tidy(() => {
    const input = scale(tf.tensor4d(pixels.x, [pixels.count, resolution, resolution, 3]));
    return tf.argMax(model.predict(input, { batchSize: 64 }) as tf.Tensor, -1).dataSync() as Int32Array;
  });
}

// ---------- our default ----------

interface OurResult {
  seconds: number;
  /** processor seconds of this process over the run, every thread (the wasm step, sharp's decoding) */
  cpuSeconds: number;
  status: string;
  reason: string;
  epochs: number;
  config: Record<string, unknown>;
  recipe: string[];
  /** null: not one epoch finished within the budget, so there is no model to score */
  test: Score | null;
  /** per epoch: [validation accuracy, seconds of the epoch, training images/s] */
  curve: [number | null, number, number][];
  /** the kept model (best epoch), null when none finished */
  modelDir: string | null;
}

type Project = { handle: ProjectHandle; registry: ProjectRegistry; file: string };

/** The configuration train.start would store for these options (the recipe fitted to the project's images unless useProfile is false). */
function planOurs(project: Project, options: Record<string, unknown>, useProfile: boolean): ReturnType<typeof resolveTrainConfig> {
  const profile = useProfile ? profileTrainingData(project.handle.db) : null;
  return resolveTrainConfig(TrainOptions.parse({ mode: 'full', ...options }), checkTrainable(project.handle).classes, profile);
}

/** processor seconds of this process so far, every thread */
function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function trainOurs(project: Project, backend: ActiveBackend, options: Record<string, unknown>, useProfile: boolean, maxSeconds: number): Promise<OurResult> {
  const { db } = project.handle;
  const { config, variant, recipe } = planOurs(project, options, useProfile);
  const run = createRun(db, { config, variant: variant.id, resolution: config.resolution, classes: config.classes, backend: config.backend });
  const control = new RunControl();
  const timer = setTimeout(() => control.cancel(`the bench's cap of ${maxSeconds} s`), maxSeconds * 1000);
  const checkpointRoot = project.registry.sideFolder(project.file, `runs/${run.id}`);
  const started = performance.now();
  const cpuStarted = cpuNow();
  let epochsDone = 0;
  const result = await trainRun({
    db,
    runId: run.id,
    checkpointRoot,
    backend,
    resume: false,
    control,
    reporter: { started: () => undefined, progress: () => undefined, epoch: () => void epochsDone++, status: () => undefined, note: () => undefined },
  });
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuNow() - cpuStarted;
  // a run stopped by the cap keeps its best epoch's checkpoint: score that, as a finished run would
  const best = getRun(db, run.id).bestEpoch;
  const modelDir = result.modelDir ?? (best === null ? null : path.join(checkpointRoot, epochDirName(best)));
  const { classes: _classes, ...shown } = config;
  let scored: Score | null = null;
  if (modelDir) {
    const { model } = await loadModelFolder(modelDir);
    const test = await splitPixels(db, 'test', config.classes, config.resolution);
    scored = score(predictClasses(model, test, config.resolution, (x) => x), test.y, config.classes.length);
    model.dispose();
  }
  const curve = runHistory(db, run.id).map((e): [number | null, number, number] => [e.valAcc === null ? null : round(e.valAcc, 3), round(e.seconds, 2), round(e.imagesPerSecond)]);
  return { seconds, cpuSeconds, status: result.status, reason: result.reason, epochs: epochsDone, config: shown, recipe, test: scored, curve, modelDir };
}

// ---------- baselines ----------

function logisticRegression(resolution: number, classes: number): tfl.LayersModel {
  const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [resolution, resolution, 3] }), tfl.layers.dense({ units: classes, activation: 'softmax' })] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

function twoLayerCnn(resolution: number, classes: number): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [resolution, resolution, 3], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: classes, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

interface BaselineResult {
  seconds: number;
  cpuSeconds: number;
  epochs: number;
  bestEpoch: number;
  val: number;
  test: Score;
}

/** Epochs (batch 32, shuffled, no augmentation) until `budget` seconds are spent; the test score of the best validation epoch. */
async function trainBaseline(make: (r: number, k: number) => tfl.LayersModel, db: ProjectHandle['db'], classes: string[], resolution: number, budget: number): Promise<BaselineResult> {
  const started = performance.now();
  const cpuStarted = cpuNow();
  const [train, val, test] = [await splitPixels(db, 'train', classes, resolution), await splitPixels(db, 'val', classes, resolution), await splitPixels(db, 'test', classes, resolution)];
  const scale = (x: tf.Tensor) => tf.sub(tf.div(x, 127.5), 1);
  const model = make(resolution, classes.length);
  const xs = tf.tidy(() => scale(tf.tensor4d(train.x, [train.count, resolution, resolution, 3])));
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(train.y, 'int32'), classes.length));
  let best = { epoch: -1, val: -1, test: { accuracy: 0, balancedAccuracy: 0 } as Score };
  let epoch = 0;
  const elapsed = () => (performance.now() - started) / 1000;
  while (epoch === 0 || elapsed() < budget) {
    await model.fit(xs, ys, { batchSize: 32, epochs: 1, shuffle: true, verbose: 0 });
    const valScore = score(predictClasses(model, val, resolution, scale), val.y, classes.length).accuracy;
    if (valScore > best.val) best = { epoch, val: valScore, test: score(predictClasses(model, test, resolution, scale), test.y, classes.length) };
    epoch++;
  }
  const seconds = elapsed();
  const cpuSeconds = cpuNow() - cpuStarted;
  xs.dispose();
  ys.dispose();
  model.dispose();
  return { seconds, cpuSeconds, epochs: epoch, bestEpoch: best.epoch, val: best.val, test: best.test };
}

// ---------- the stand-in pretrained backbone ----------

interface Pretrained {
  weightsFile: string;
  /** what the pretraining run did (its test score on the source task included) */
  record: Record<string, unknown>;
}

/**
 * Train `model` from scratch on SOURCE_SET with the recipe (capped at `seconds`) and write its
 * backbone as a Keras applications .h5 (no classifier). The file and its record are kept in
 * .cache/bench-recipe under a key of everything that decides them (the source set, the run's whole
 * configuration, the cap), so a second bench reuses them; --fresh-pretrain trains again.
 */
async function pretrain(tmp: string, perClass: number, backend: ActiveBackend, model: string, seconds: number, fresh: boolean): Promise<Pretrained> {
  const folder = path.join(cacheDir('bench-recipe'), `${SOURCE_SET.name}-${perClass}`);
  await writeSet(SOURCE_SET, perClass, folder);
  const registry = new ProjectRegistry(path.join(tmp, 'home'));
  const file = path.join(tmp, 'source.effitune');
  registry.create(file);
  const handle = registry.get(file);
  try {
    await importFolder(handle, { folder: path.join(folder, 'images'), labelsFromFolders: true, jobId: 'bench-source' });
    splitProject(handle, { val: 0.2, test: 0.2, seed: 1 });
    const project = { handle, registry, file };
    const planned = planOurs(project, { model }, true).config;
    const key = crypto.createHash('sha256').update(JSON.stringify({ set: SOURCE_SET.what, perClass, seconds, backend: backend.name, config: planned })).digest('hex').slice(0, 16);
    const kept = path.join(cacheDir('bench-recipe'), `pretrained-${key}`);
    const weightsFile = path.join(kept, `source-${model.replace(/[^a-z0-9-]/gi, '_')}_notop.h5`);
    const recordFile = path.join(kept, 'pretraining.json');
    if (!fresh && fs.existsSync(recordFile) && fs.existsSync(weightsFile)) {
      const record = { ...(JSON.parse(fs.readFileSync(recordFile, 'utf8')) as Record<string, unknown>), reused: path.relative(process.cwd(), kept) };
      log(`pretraining: reusing ${kept} (--fresh-pretrain trains again)`);
      return { weightsFile, record };
    }
    const trained = await trainOurs(project, backend, { model }, true, seconds);
    if (!trained.modelDir) throw new Error(`pretraining on the source set finished no epoch in ${seconds} s`);
    const { model: network } = await loadModelFolder(trained.modelDir);
    fs.mkdirSync(kept, { recursive: true });
    await writeKerasH5(weightsFile, kerasLayersOfModel(network).filter((l) => l.name !== 'predictions'));
    network.dispose();
    const counts = { train: splitImages(handle.db, 'train').length, val: splitImages(handle.db, 'val').length, test: splitImages(handle.db, 'test').length };
    const record = { set: SOURCE_SET.name, what: SOURCE_SET.what, ...counts, seconds: round(trained.seconds), cpuSeconds: round(trained.cpuSeconds), epochs: trained.epochs, plannedEpochs: planned.epochs, status: trained.status, reason: trained.reason, test: trained.test, curve: trained.curve };
    fs.writeFileSync(recordFile, JSON.stringify(record));
    return { weightsFile, record };
  } finally {
    registry.closeAll();
  }
}

// ---------- the run ----------

/**
 * How fast a run of ours learned, from its epochs' validation accuracy and training seconds (the
 * epochs' own time, without set-up): the training seconds until validation accuracy first reached
 * 0.9 (null: never), and the best validation accuracy of the epochs done by a quarter and by half of
 * `budget`. Two runs that both end near 1.0 on an easy set differ here.
 */
function progressOf(curve: [number | null, number, number][], budget: number): Record<string, number | null> {
  let elapsed = 0;
  let to90: number | null = null;
  let quarter: number | null = null;
  let half: number | null = null;
  for (const [val, seconds] of curve) {
    elapsed += seconds;
    if (val === null) continue;
    if (to90 === null && val >= 0.9) to90 = round(elapsed);
    if (elapsed <= budget / 4) quarter = Math.max(quarter ?? 0, val);
    if (elapsed <= budget / 2) half = Math.max(half ?? 0, val);
  }
  return { secondsToVal90: to90, bestValAtQuarterBudget: quarter, bestValAtHalfBudget: half };
}

const ARMS = ['default', 'logistic', 'cnn2', 'pretrained'] as const;
type Arm = (typeof ARMS)[number];

export async function run(args: string[]): Promise<void> {
  const text = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
  const perClass = option(args, 'per-class', 100);
  const sourcePerClass = option(args, 'source-per-class', 200);
  const maxSeconds = option(args, 'max-seconds', 600);
  const model = text('model', 'phi=-8');
  const backendName = text('backend', 'wasm') as BackendName;
  // --options '{"lr":0.005}': train options for our arm on top of the recipe (to try a change of recipe)
  const extra = JSON.parse(text('options', '{}')) as Record<string, unknown>;
  const pretrainedExtra = JSON.parse(text('pretrained-options', '{}')) as Record<string, unknown>;
  const names = text('sets', SETS.map((s) => s.name).join(',')).split(',');
  const sets = names.map((n) => SETS.find((s) => s.name === n) ?? (() => { throw new Error(`unknown set "${n}"; sets: ${SETS.map((s) => s.name).join(', ')}`); })());
  const pretrainSeconds = option(args, 'pretrain-seconds', 900);
  const arms = text('arms', ARMS.join(',')).split(',') as Arm[];
  for (const a of arms) if (!ARMS.includes(a)) throw new Error(`unknown arm "${a}"; arms: ${ARMS.join(', ')}`);
  const wants = (arm: Arm) => arms.includes(arm) && (arm !== 'pretrained' || pretrainSeconds > 0);
  const backend = await useBackend(backendName);
  const common = { bench: 'recipe', model, perClass, backend: backend.name, ...machine() };
  const tmp = makeTempDir('bench-recipe');
  process.env.EFFITUNE_HOME ??= path.join(tmp, 'home');
  const summary: Record<string, unknown>[] = [];
  let source: Record<string, unknown> | null = null;
  try {
    const pretrained = wants('pretrained') ? await pretrain(tmp, sourcePerClass, backend, model, pretrainSeconds, args.includes('--fresh-pretrain')) : null;
    if (pretrained) {
      emit({ ...common, arm: 'pretraining', ...pretrained.record });
      const test = pretrained.record.test as Score | null;
      source = { perClass: sourcePerClass, seconds: pretrained.record.seconds, epochs: pretrained.record.epochs, testAccuracy: test && round(test.accuracy, 3) };
    }
    for (const spec of sets) {
      const folder = path.join(cacheDir('bench-recipe'), `${spec.name}-${perClass}`);
      await writeSet(spec, perClass, folder);
      const registry = new ProjectRegistry(path.join(tmp, 'home'));
      const file = path.join(tmp, `${spec.name}.effitune`);
      registry.create(file);
      const handle = registry.get(file);
      await importFolder(handle, { folder: path.join(folder, 'images'), labelsFromFolders: true, jobId: 'bench' });
      splitProject(handle, { val: 0.2, test: 0.2, seed: 1 });
      const project = { handle, registry, file };
      const classes = checkTrainable(handle).classes.map((c) => c.name);
      const counts = { train: splitImages(handle.db, 'train').length, val: splitImages(handle.db, 'val').length, test: splitImages(handle.db, 'test').length };
      log(`${spec.name}: ${spec.what}; ${JSON.stringify(counts)}; judged by ${spec.score}`);
      // each arm's test score: both measures, and the one the set is judged by
      const scores: Partial<Record<Arm | 'fixed', Score | null>> = {};
      const row: Record<string, unknown> = { set: spec.name, score: spec.score };
      const shown = (s: Score | null | undefined) => (s ? { accuracy: round(s.accuracy, 3), balancedAccuracy: round(s.balancedAccuracy, 3) } : null);

      let budget = maxSeconds;
      if (wants('default')) {
        const ours = await trainOurs(project, backend, { model, ...extra }, true, maxSeconds);
        emit({ ...common, set: spec.name, arm: 'default', ...counts, seconds: round(ours.seconds), cpuSeconds: round(ours.cpuSeconds), epochs: ours.epochs, status: ours.status, test: shown(ours.test), config: ours.config, recipe: ours.recipe, curve: ours.curve });
        budget = ours.seconds;
        scores.default = ours.test;
        row.progress = { default: progressOf(ours.curve, budget) };
        row.cpuSeconds = { default: round(ours.cpuSeconds) };
      }
      row.budgetSeconds = round(budget);
      for (const [arm, make] of [['logistic', logisticRegression], ['cnn2', twoLayerCnn]] as const) {
        if (!wants(arm)) continue;
        const b = await trainBaseline(make, handle.db, classes, spec.size, budget);
        emit({ ...common, set: spec.name, arm, ...counts, seconds: round(b.seconds), cpuSeconds: round(b.cpuSeconds), epochs: b.epochs, bestEpoch: b.bestEpoch, resolution: spec.size, test: shown(b.test) });
        scores[arm] = b.test;
        row.cpuSeconds = { ...(row.cpuSeconds as object), [arm]: round(b.cpuSeconds) };
      }
      if (pretrained) {
        const pre = await trainOurs(project, backend, { model, weights: pretrained.weightsFile, ...pretrainedExtra }, true, budget);
        emit({ ...common, set: spec.name, arm: 'pretrained', ...counts, seconds: round(pre.seconds), cpuSeconds: round(pre.cpuSeconds), epochs: pre.epochs, status: pre.status, test: shown(pre.test), config: pre.config, recipe: pre.recipe, curve: pre.curve });
        scores.pretrained = pre.test;
        row.progress = { ...(row.progress as object), pretrained: progressOf(pre.curve, budget) };
        row.cpuSeconds = { ...(row.cpuSeconds as object), pretrained: round(pre.cpuSeconds) };
      }
      if (args.includes('--fixed')) {
        const fixed = await trainOurs(project, backend, { model }, false, budget);
        emit({ ...common, set: spec.name, arm: 'fixed-imagenet-defaults', ...counts, seconds: round(fixed.seconds), cpuSeconds: round(fixed.cpuSeconds), epochs: fixed.epochs, status: fixed.status, test: shown(fixed.test), config: fixed.config, curve: fixed.curve });
        scores.fixed = fixed.test;
      }
      for (const [arm, s] of Object.entries(scores)) row[arm] = shown(s);
      const judged = (s: Score | null | undefined) => (s ? s[spec.score] : null);
      const beats = (a: Score | null | undefined, b: Score | null | undefined, by: ScoreName) => (a && b ? a[by] > b[by] : null);
      if (scores.default !== undefined && scores.logistic !== undefined && scores.cnn2 !== undefined) {
        row.defaultBeatsBoth = judged(scores.default) !== null && beats(scores.default, scores.logistic, spec.score) === true && beats(scores.default, scores.cnn2, spec.score) === true;
        if (spec.score !== 'accuracy') row.defaultBeatsBothOnAccuracy = beats(scores.default, scores.logistic, 'accuracy') === true && beats(scores.default, scores.cnn2, 'accuracy') === true;
      }
      const progress = row.progress as Record<string, Record<string, number | null>> | undefined;
      if (progress?.pretrained && progress.default) {
        // on an easy set both end near 1.0: how soon each got to 0.9 then tells them apart
        const [pre, scratch] = [progress.pretrained.secondsToVal90, progress.default.secondsToVal90];
        row.pretrainedReachesVal90Sooner = pre !== null && (scratch === null || pre < scratch);
      }
      if (scores.pretrained !== undefined && scores.default !== undefined) row.pretrainedBeatsScratch = judged(scores.pretrained) !== null && (scores.default === null || beats(scores.pretrained, scores.default, spec.score) === true);
      summary.push(row);
      registry.closeAll();
    }
  } finally {
    removeDir(tmp);
  }
  emit({
    ...common,
    summary: true,
    maxSeconds,
    source,
    sets: summary,
    note: "progress: training seconds to a validation accuracy of 0.9 and the best validation accuracy by a quarter and half of the budget (our runs); test split (0.2) scores; each set is judged by its `score` (accuracy where the classes are balanced, balanced accuracy = mean recall per class on the imbalanced set), both are shown; every other arm had the default run's wall-clock time; cpuSeconds: processor time of each arm (every thread), to see how much the machine's other load took; null: no epoch finished in it",
  });
}
