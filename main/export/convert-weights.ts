/**
 * Weights file → TF.js model folder: the importer builds a complete model from a .h5 or
 * .safetensors (or refuses, naming the tensor), and model-folder.ts writes it in the standard
 * layers-model format with Effitune's metadata (variant, resolution, where the weights came from).
 */
import path from 'node:path';
import type { CallArgs, CallOutput } from '../contract/contract';
import { importWeights } from '../model/weights/import';
import { ensureBackend } from '../backend/ensure-backend';
import { md5File } from '../model/manager/file-hash';
import { saveModelFolder } from '../model/manager/model-folder';

export const MODEL_INPUT = 'RGB pixels 0..255 as float32, NHWC; normalisation is inside the model';

export async function convertWeightsToModelFolder(args: CallArgs<'weights.convert'>): Promise<CallOutput<'weights.convert'>> {
  const file = path.resolve(args.file);
  const out = path.resolve(args.out);
  await ensureBackend();
  const imported = await importWeights({ file, variant: args.variant, classes: args.classes, resolution: args.resolution, timmModel: args.timmModel, seed: args.seed, includeTop: true });
  try {
    const resolution = imported.buildOptions.resolution ?? imported.variant.resolution;
    const classes = imported.classes ?? 0;
    const notes = [...imported.notes];
    if (!imported.headLoaded) notes.push('the classifier is new (random): train it before trusting its outputs');
    const saved = await saveModelFolder(
      imported.model,
      out,
      {
        variant: imported.variant.id,
        resolution,
        classes,
        input: MODEL_INPUT,
        weights: { file, md5: await md5File(file), format: imported.format, headLoaded: imported.headLoaded },
        notes,
        createdAt: new Date().toISOString(),
      },
      args.overwrite,
    );
    return { out, files: saved.files, bytes: saved.bytes, variant: imported.variant.id, resolution, classes, headLoaded: imported.headLoaded, format: imported.format, notes };
  } finally {
    imported.model.dispose();
  }
}
