/**
 * `handoff.import`: bring a bundle trained by train.py back as a completed run of the project.
 *   1. the bundle belongs to this project: every image it trained on is in the project (SHA-256);
 *   2. out/final.safetensors (timm naming) becomes a TF.js model through the existing safetensors
 *      reader and timm name mapping, built with the bundle's architecture options;
 *   3. parity: PyTorch's probabilities on the bundle's parity pixels (train.py --predict here when a
 *      Python with torch is found, else the ones train.py wrote at the end, out/parity.json) and the
 *      imported model's must agree within HANDOFF_PARITY_TOLERANCE;
 *   4. the run is recorded with its epochs from out/metrics.jsonl, its model in the run folder like
 *      any trained run's (so evaluate, assist and export read it), its config carrying
 *      `trainedElsewhere` (hosts, processes, device, torch) and a note saying the same.
 * Nothing is recorded until 1–3 pass, and then the run and its folder arrive together (recordRun).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ApiError, type CallArgs, type CallOutput } from '../contract/contract';
import { HANDOFF_PARITY_TOLERANCE, type HandoffParity, type TrainedElsewhere } from '../contract/calls-handoff';
import { ensureBackend } from '../backend/ensure-backend';
import type { BuildOptions } from '../model/build-options';
import { buildEfficientNet } from '../model/builder';
import { LABELS_JSON, saveModelFolder } from '../model/manager/model-folder';
import { getVariant } from '../model/variants';
import { readSafetensors } from '../model/weights/safetensors';
import type { ProjectHandle } from '../project/registry';
import { FINAL_MODEL_DIR } from '../project/run-folders';
import { createRun, getRun, listRuns, recordEpoch, runFolderOf, updateRunStatus } from '../project/runs';
import { fsyncDir, leftoverName, newToken, sweepFolderLeftovers } from '../export/atomic-folder';
import { addRunNote } from '../train/run-notes';
import { BUNDLE_JSON, FINAL_WEIGHTS, METRICS_LOG, PARITY_RESULT, readImages, readManifest, type BundleManifest } from './bundle-manifest';
import { readMetricsLog, type MetricsLog } from './metrics-log';
import { imagesByHash, projectIdentity } from './project-images';
import { findPythonWithTorch, predictWithTorch } from './python-torch';
import { fillFromTimm } from './timm-weights';
import { MODEL_INPUT } from '../export/convert-weights';
import { fsPathFromPythonText, shownPath } from '../dataset/file-name-bytes';

/** the bundle's record kept in the run folder: what was trained, and its log */
const RUN_HANDOFF_DIR = 'handoff';

export async function importBundle(handle: ProjectHandle, args: CallArgs<'handoff.import'>): Promise<CallOutput<'handoff.import'>> {
  const started = performance.now();
  const dir = path.resolve(args.dir);
  const manifest = readManifest(dir);
  const notes = checkBelongs(handle, dir, manifest);
  const finalFile = path.join(dir, FINAL_WEIGHTS);
  const log = readMetricsLog(path.join(dir, METRICS_LOG));
  if (!fs.existsSync(finalFile) || !log.done) {
    const last = log.epochs.at(-1);
    throw new ApiError(
      'invalid_input',
      `the training in ${dir} has not finished: ${fs.existsSync(finalFile) ? 'out/metrics.jsonl has no "done" line' : 'there is no out/final.safetensors'} (${last ? `last finished epoch ${last.epoch + 1} of ${manifest.config.epochs}` : 'no epoch finished'}); run train.py again there, it resumes from its checkpoint`,
    );
  }
  if (log.epochs.length === 0) throw new ApiError('invalid_input', `${path.join(dir, METRICS_LOG)} records no finished epoch`);
  const trainedElsewhere = whereItTrained(log, dir);
  // before the model is built and checked, so a second import is told at once (recordRun asks again)
  refuseSecondImport(handle.db, trainedElsewhere);

  await ensureBackend();
  const variant = getVariant(manifest.architecture.variant);
  const a = manifest.architecture;
  const buildOptions: BuildOptions = {
    classes: manifest.classes.length,
    includeTop: true,
    resolution: a.resolution,
    dropout: a.dropout,
    dropConnect: a.dropConnect,
    padding: a.padding,
    bnEpsilon: a.bnEpsilon,
    preprocessing: a.preprocessing,
  };
  const model = buildEfficientNet(variant, buildOptions);
  try {
    const tensors = fillFromTimm(model, variant, buildOptions, finalFile);
    notes.push(`final weights: ${tensors} tensors of ${FINAL_WEIGHTS} (timm naming) loaded into ${variant.name}`);
    const parity = args.skipParity ? null : await checkParity(model, dir, manifest, finalFile, args.python);
    if (parity) notes.push(`parity: largest probability difference ${parity.maxAbsDiff.toExponential(2)} on ${parity.images} images (${parity.source === 'local-torch' ? `train.py --predict here, torch ${parity.torch}` : 'out/parity.json written by train.py'}), top-1 identical`);
    else notes.push('parity NOT checked (skipParity)');
    return { ...(await recordRun(handle, dir, manifest, log, model, trainedElsewhere, notes)), trainedElsewhere, parity, notes, seconds: (performance.now() - started) / 1000 };
  } finally {
    model.dispose();
  }
}

/** Refuse a bundle of another project; notes for what differs but does not matter (labels changed since). */
function checkBelongs(handle: ProjectHandle, dir: string, manifest: BundleManifest): string[] {
  const images = readImages(dir, manifest.classes.length);
  const here = imagesByHash(handle.db);
  const unknown = images.filter((i) => !here.has(i.hash));
  const identity = projectIdentity(handle);
  if (unknown.length > 0) {
    const same = manifest.project.createdAt === identity.createdAt;
    throw new ApiError(
      'invalid_input',
      `the bundle ${dir} does not belong to this project (${identity.name}, ${identity.file}): ${unknown.length} of its ${images.length} images are not in it ` +
        `(first: ${shownPath(fsPathFromPythonText(unknown[0].path))}). It was made from ${same ? 'this project, whose images have changed since' : `"${manifest.project.name}" (${manifest.project.file}, created ${manifest.project.createdAt})`}; import it into that project.`,
    );
  }
  const notes: string[] = [];
  if (manifest.project.createdAt !== identity.createdAt) notes.push(`the bundle names project "${manifest.project.name}" (${manifest.project.file}); every one of its ${images.length} images is in this project, so it is accepted`);
  const relabeled = images.filter((i) => here.get(i.hash)!.className !== manifest.classes[i.label]).length;
  if (relabeled > 0) notes.push(`${relabeled} images have another label in the project now than when the bundle was made; the run trained on the bundle's labels`);
  return notes;
}

async function checkParity(model: tfl.LayersModel, dir: string, manifest: BundleManifest, finalFile: string, python: string | undefined): Promise<HandoffParity> {
  const pixelsFile = path.join(dir, manifest.parity.file);
  const pixels = readSafetensors(pixelsFile).tensors.get('pixels');
  if (!pixels || pixels.shape.length !== 4) throw new ApiError('invalid_input', `${pixelsFile} has no pixels tensor [N, H, W, 3]`);
  const ours = tf.tidy(() => (model.predict(tf.tensor4d(pixels.data, pixels.shape as [number, number, number, number])) as tf.Tensor).arraySync() as number[][]);

  let theirs: { probabilities: number[][]; torch: string | null; source: HandoffParity['source'] };
  const { found, tried } = findPythonWithTorch(python);
  if (found) {
    const predicted = await predictWithTorch(found.python, dir, pixelsFile, finalFile);
    theirs = { probabilities: predicted.probabilities, torch: predicted.torch, source: 'local-torch' };
  } else if (fs.existsSync(path.join(dir, PARITY_RESULT))) {
    const written = JSON.parse(fs.readFileSync(path.join(dir, PARITY_RESULT), 'utf8')) as { probabilities: number[][]; torch?: string };
    theirs = { probabilities: written.probabilities, torch: written.torch ?? null, source: 'bundle' };
  } else {
    throw new ApiError('invalid_input', `cannot check parity: no Python with torch here (${tried.join('; ')}) and the bundle has no ${PARITY_RESULT}; name one with --python, or import with --skip-parity`);
  }
  if (theirs.probabilities.length !== ours.length || theirs.probabilities.some((row, i) => row.length !== ours[i].length)) {
    throw new ApiError('invalid_input', `PyTorch gave ${theirs.probabilities.length} rows of probabilities for ${ours.length} parity images of ${manifest.classes.length} classes`);
  }
  let maxAbsDiff = 0;
  let top1Agree = true;
  const argmax = (row: number[]) => row.indexOf(Math.max(...row));
  ours.forEach((row, i) => {
    row.forEach((p, c) => (maxAbsDiff = Math.max(maxAbsDiff, Math.abs(p - theirs.probabilities[i][c]))));
    if (argmax(row) !== argmax(theirs.probabilities[i])) top1Agree = false;
  });
  if (!(maxAbsDiff <= HANDOFF_PARITY_TOLERANCE) || !top1Agree) {
    throw new ApiError(
      'invalid_input',
      `the imported model does not match PyTorch on the bundle's ${ours.length} parity images: largest probability difference ${maxAbsDiff.toExponential(2)} (tolerance ${HANDOFF_PARITY_TOLERANCE}), top-1 ${top1Agree ? 'identical' : 'differs'}; the weights in ${finalFile} do not fit this architecture`,
    );
  }
  return { images: ours.length, maxAbsDiff, top1Agree, tolerance: HANDOFF_PARITY_TOLERANCE, source: theirs.source, torch: theirs.torch };
}

function whereItTrained(log: MetricsLog, dir: string): TrainedElsewhere {
  const done = log.done!;
  return {
    hosts: done.hosts,
    nodes: done.nodes,
    processes: done.worldSize,
    device: done.device,
    deviceType: done.deviceType,
    torch: done.torch,
    cuda: done.cuda,
    python: done.python,
    impl: done.impl,
    amp: done.amp,
    distributedBackend: done.backend,
    resumes: log.starts.filter((s) => s.event === 'resume').length,
    bundle: dir,
    startedAt: log.starts[0]?.at ?? null,
    finishedAt: done.at,
    stopped: done.reason,
  };
}

/**
 * One training, one run: a bundle whose training (its start and finish, as out/metrics.jsonl
 * records them) is already a run of this project is refused, wherever the bundle folder is now.
 * A bundle trained again (train.py run anew there) has another finish time and is a new run.
 * Asked before the import's slow work and again inside recordRun's transaction, so two imports at
 * once cannot both pass.
 */
function refuseSecondImport(db: ProjectHandle['db'], where: TrainedElsewhere): void {
  if (where.finishedAt === null) return;
  for (const run of listRuns(db)) {
    const earlier = run.config.trainedElsewhere as Partial<TrainedElsewhere> | undefined;
    if (earlier && earlier.finishedAt === where.finishedAt && earlier.startedAt === where.startedAt) {
      throw new ApiError(
        'already_exists',
        `this training (started ${where.startedAt ?? 'at an unknown time'}, finished ${where.finishedAt}) is already run ${run.id} of this project, imported from ${earlier.bundle ?? 'a bundle'}; delete run ${run.id} first to import it again`,
      );
    }
  }
}

/**
 * The run, recorded whole or not at all (a kill at any moment leaves neither a run stuck "running"
 * nor a completed run without its model): every file is written first into a hidden folder beside
 * the run folders (`.import.tmp-PID-HEX`, swept by the next import when its process is gone), then
 * one transaction creates the run, its epochs and notes, marks it completed and renames the folder
 * into place before it commits. A kill between that rename and the commit leaves a folder named for
 * an id no run has; createRun clears such a folder before it gives the id out.
 */
async function recordRun(handle: ProjectHandle, dir: string, manifest: BundleManifest, log: MetricsLog, model: tfl.LayersModel, where: TrainedElsewhere, notes: string[]) {
  const { db } = handle;
  const images = readImages(dir, manifest.classes.length);
  const valCounts = manifest.classes.map((_, label) => images.filter((i) => i.split === 'val' && i.label === label).length);
  const runsDir = path.dirname(runFolderOf(handle.path, 1));
  fs.mkdirSync(runsDir, { recursive: true });
  sweepFolderLeftovers(runsDir);
  const staging = path.join(runsDir, leftoverName('import', 'temp', newToken()));
  fs.mkdirSync(staging);
  try {
    await saveModelFolder(model, path.join(staging, FINAL_MODEL_DIR), {
      variant: manifest.architecture.variant,
      resolution: manifest.architecture.resolution,
      classes: manifest.classes.length,
      input: MODEL_INPUT,
      trainedElsewhere: { torch: where.torch, processes: where.processes, device: where.device },
    });
    fs.writeFileSync(path.join(staging, FINAL_MODEL_DIR, LABELS_JSON), JSON.stringify(manifest.classes));
    const record = path.join(staging, RUN_HANDOFF_DIR);
    fs.mkdirSync(record, { recursive: true });
    fs.copyFileSync(path.join(dir, BUNDLE_JSON), path.join(record, BUNDLE_JSON));
    fs.copyFileSync(path.join(dir, METRICS_LOG), path.join(record, 'metrics.jsonl'));
    fsyncDir(staging);

    const summary = `trained elsewhere with PyTorch ${where.torch}: ${where.processes} process${where.processes === 1 ? '' : 'es'} on ${where.nodes} machine${where.nodes === 1 ? '' : 's'} (${where.hosts.join(', ')}), ${where.device}${where.amp ? ', AMP' : ''}${where.resumes ? `, resumed ${where.resumes}×` : ''}`;
    const runId = db
      .transaction(() => {
        refuseSecondImport(db, where);
        const run = createRun(db, {
          config: { ...manifest.config, trainedElsewhere: where },
          variant: manifest.architecture.variant,
          resolution: manifest.architecture.resolution,
          classes: manifest.classes,
          backend: 'pytorch',
          valCounts,
          status: 'running',
        });
        const folder = runFolderOf(handle.path, run.id);
        for (const e of log.epochs) {
          recordEpoch(db, run.id, { epoch: e.epoch, trainLoss: e.trainLoss, trainAcc: e.trainAcc, valLoss: e.valLoss, valAcc: e.valAcc, imagesPerSecond: e.imagesPerSecond, seconds: e.seconds, lr: e.lr, batch: e.batch, at: e.at });
        }
        addRunNote(db, run.id, 'info', `${summary}; imported from ${dir}`);
        for (const note of notes) addRunNote(db, run.id, 'info', note);
        updateRunStatus(db, run.id, 'completed', { reason: `${summary}; ${where.stopped}`, checkpointDir: folder });
        // last: should the commit fail after it, the folder is a stray that createRun clears
        fs.renameSync(staging, folder);
        return run.id;
      })
      .immediate();
    fsyncDir(runsDir);
    return { run: getRun(db, runId), epochs: log.epochs.length, modelDir: path.join(runFolderOf(handle.path, runId), FINAL_MODEL_DIR) };
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}
