/**
 * The data pipeline of training and evaluation: the images of a split → batches of
 * { x: float32 NHWC RGB 0..255, y: class indices, ids, hashes }.
 *
 * Decoding and resizing run on sharp's thread pool (libuv's, UV_THREADPOOL_SIZE threads, 4 by
 * default); flips, rotation and colour jitter run in JavaScript on the small resized image while it
 * is copied into the batch. The next `prefetch` batches are always being prepared while the caller
 * works on the current one, so the backend does not wait on JPEG decoding. Worker threads would not
 * add decode throughput (they share the same libuv pool) — raise UV_THREADPOOL_SIZE in the trainer
 * process instead.
 *
 * Files deleted since the import, or that no longer decode, are skipped and listed in `skipped`
 * (never fatal); a file that fails once is left out of the following epochs. Each file is read once
 * and its bytes must still be the format its import recorded before anything decodes them (as the
 * detail view checks, dataset/media.ts): a JPEG swapped for an SVG since the import is skipped,
 * never rendered.
 * Everything random comes from `seed` (see random.ts): the same seed gives the same batches.
 */
import { ApiError, type SplitName } from '../../contract/contract';
import type { Augmentation, SkippedImage } from '../../contract/calls-data';
import { sharpMessage } from '../../dataset/inspect-image';
import { ChangedSinceImport, readAsImported } from '../../dataset/as-imported';
import { imageFsPath, isFileAt, PATH_BYTES, type FsPath } from '../../dataset/file-name-bytes';
import type { Database } from '../../project/database';
import { augmentPixels, drawAugmentation, resolveAugmentation, type AugmentationInput, type SampleAugmentation } from './augmentation';
import { decodeCentreCrop, decodeCrop, orientedSize, toFloat32 } from '../../dataset/image-pixels';
import { randomFor } from './random';
import { classWeights, epochOrder, type Sampling } from './sampling';
import { stratifiedSubset, type SubsetChoice } from './subset';
import type { DecodedCache } from './decoded-cache';

export interface PipelineOptions {
  split: SplitName | readonly SplitName[];
  resolution: number;
  batchSize: number;
  /** class names in model output order; labeled images of other classes are skipped. Default: every class, by name */
  classes?: readonly string[];
  /** training augmentation (defaults filled in); false or absent: evaluation preprocessing, no randomness */
  augment?: AugmentationInput | false;
  /** default: true when augmenting */
  shuffle?: boolean;
  /** default 'natural' */
  sampling?: Sampling;
  /** default 1 */
  seed?: number;
  /** leave out a last, smaller batch (BatchNorm statistics of a batch of 1 or 2 are noise). Default false */
  dropLast?: boolean;
  /** batches prepared ahead of the one being used; default 3 */
  prefetch?: number;
  /** keep a stratified subset of the images (subset.ts); default all */
  subset?: SubsetChoice | null;
  /** read images decoded once into this cache (decoded-cache.ts) instead of decoding the files every epoch */
  decodedCache?: DecodedCache | null;
}

export interface Batch {
  /** [size, resolution, resolution, 3] RGB 0..255 */
  x: Float32Array;
  /** class index per image, into `classes` */
  y: Int32Array;
  ids: number[];
  /** content hashes (the embeddings cache key) */
  hashes: string[];
  size: number;
  /** position of the batch in its epoch */
  index: number;
}


export interface DataPipeline {
  readonly classes: readonly string[];
  readonly resolution: number;
  readonly batchSize: number;
  /** samples per epoch (shrinks if files go missing during training) */
  readonly epochSize: number;
  readonly batchesPerEpoch: number;
  /** images per class (in `classes` order) that the pipeline can read */
  readonly classCounts: readonly number[];
  /** inverse-frequency weights per class (classWeights) */
  readonly classWeights: readonly number[];
  /** images left out and why; grows if files fail during an epoch */
  readonly skipped: readonly SkippedImage[];
  /** the batches of one epoch (epoch numbers seed the order and the augmentation) */
  epoch(epoch: number): AsyncGenerator<Batch>;
}

interface Item {
  id: number;
  /** the text form, for reports */
  path: string;
  /** what opens it (raw bytes for a name that is not UTF-8: dataset/file-name-bytes.ts) */
  file: FsPath;
  hash: string;
  /** the format the import recorded (inspect-image.ts); null for rows from before it was recorded */
  format: string | null;
  label: number;
  width: number | null;
  height: number | null;
}

export function createDataPipeline(handle: { db: Database }, options: PipelineOptions): DataPipeline {
  const { resolution, batchSize } = options;
  if (!Number.isInteger(resolution) || resolution < 8 || resolution > 4096) throw new ApiError('invalid_input', `resolution must be a whole number of pixels from 8 to 4096, not ${resolution}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ApiError('invalid_input', `batch size must be a whole number of at least 1, not ${batchSize}`);
  const prefetch = options.prefetch ?? 3;
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new ApiError('invalid_input', `prefetch must be a whole number of at least 1, not ${prefetch}`);
  const augmentation = options.augment ? resolveAugmentation(options.augment) : null;
  const shuffle = options.shuffle ?? augmentation !== null;
  const sampling = options.sampling ?? 'natural';
  const seed = options.seed ?? 1;
  const splits = typeof options.split === 'string' ? [options.split] : [...options.split];

  const classes = options.classes ? [...options.classes] : allClassNames(handle.db);
  const loaded = loadItems(handle.db, splits, classes);
  const { skipped } = loaded;
  const items = options.subset ? stratifiedSubset(loaded.items, options.subset).map((i) => loaded.items[i]) : loaded.items;
  const failed = new Set<number>();

  const pipeline: DataPipeline = {
    classes,
    resolution,
    batchSize,
    get epochSize() {
      return items.length - failed.size;
    },
    get batchesPerEpoch() {
      const n = items.length - failed.size;
      return options.dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
    },
    get classCounts() {
      const counts = classes.map(() => 0);
      for (const item of items) if (!failed.has(item.id)) counts[item.label]++;
      return counts;
    },
    get classWeights() {
      return classWeights(pipeline.classCounts);
    },
    skipped,
    epoch: (epoch) => batches(epoch),
  };
  return pipeline;

  async function* batches(epoch: number): AsyncGenerator<Batch> {
    const active = items.filter((item) => !failed.has(item.id));
    const order = epochOrder(
      active.map((item) => item.label),
      { sampling, shuffle, seed, epoch },
    );
    const count = options.dropLast ? Math.floor(order.length / batchSize) : Math.ceil(order.length / batchSize);
    const pending: Promise<Batch | null>[] = [];
    let next = 0;
    const fill = () => {
      while (next < count && pending.length < prefetch) {
        const start = next * batchSize;
        pending.push(loadBatch(next, start, order.slice(start, start + batchSize).map((p) => active[p]), epoch));
        next++;
      }
    };
    fill();
    while (pending.length > 0) {
      const batch = await pending.shift()!;
      fill();
      if (batch) yield batch;
    }
  }

  /** Never rejects: an image that fails is skipped and reported, the rest of the batch goes on. */
  async function loadBatch(index: number, start: number, members: Item[], epoch: number): Promise<Batch | null> {
    const perImage = resolution * resolution * 3;
    const x = new Float32Array(members.length * perImage);
    const ok = await Promise.all(members.map((item, i) => loadInto(item, x, i * perImage, epoch, start + i)));
    const kept = members.filter((_, i) => ok[i]);
    if (kept.length === 0) return null;
    let pixels = x;
    if (kept.length < members.length) {
      pixels = new Float32Array(kept.length * perImage);
      let at = 0;
      members.forEach((_, i) => {
        if (!ok[i]) return;
        pixels.set(x.subarray(i * perImage, (i + 1) * perImage), at);
        at += perImage;
      });
    }
    return {
      x: pixels,
      y: Int32Array.from(kept, (item) => item.label),
      ids: kept.map((item) => item.id),
      hashes: kept.map((item) => item.hash),
      size: kept.length,
      index,
    };
  }

  async function loadInto(item: Item, x: Float32Array, offset: number, epoch: number, position: number): Promise<boolean> {
    try {
      if (options.decodedCache) {
        const image = await options.decodedCache.get(item.hash, () => checkedBytes(item));
        if (!augmentation) {
          toFloat32(await decodeCentreCrop(image, resolution), x, offset);
        } else {
          // the crop is drawn on the cached image's own size (the same fractions of the picture)
          const aug = drawAugmentation(randomFor(seed, 'augment', epoch, position), image.width, image.height, augmentation);
          augmentPixels(aug.crop ? await decodeCrop(image, aug.crop, resolution) : await decodeCentreCrop(image, resolution), resolution, aug, x, offset);
        }
      } else if (!augmentation) {
        toFloat32(await decodeCentreCrop(await checkedBytes(item), resolution), x, offset);
      } else {
        const { pixels, aug } = await decodeAugmented(item, augmentation, randomFor(seed, 'augment', epoch, position));
        augmentPixels(pixels, resolution, aug, x, offset);
      }
      return true;
    } catch (err) {
      // balanced sampling may visit an image twice in an epoch: report it once
      if (!failed.has(item.id)) skipped.push({ id: item.id, path: item.path, reason: failureReason(item.file, err) });
      failed.add(item.id);
      return false;
    }
  }

  /** The crop needs the size as shown; the import stored it, and if the file changed since, it is read again. */
  async function decodeAugmented(item: Item, config: Augmentation, random: () => number): Promise<{ pixels: Buffer; aug: SampleAugmentation }> {
    const bytes = await checkedBytes(item);
    const stored = item.width && item.height ? { width: item.width, height: item.height } : await orientedSize(bytes);
    const aug = drawAugmentation(random, stored.width, stored.height, config);
    if (!aug.crop) return { pixels: await decodeCentreCrop(bytes, resolution), aug };
    try {
      return { pixels: await decodeCrop(bytes, aug.crop, resolution), aug };
    } catch (err) {
      const actual = await orientedSize(bytes);
      if (actual.width === stored.width && actual.height === stored.height) throw err;
      item.width = actual.width;
      item.height = actual.height;
      const redrawn = drawAugmentation(random, actual.width, actual.height, config);
      return { pixels: await decodeCrop(bytes, redrawn.crop!, resolution), aug: redrawn };
    }
  }
}

/** Every class of the project by name: the default model output order (as checkTrainable's). */
function allClassNames(db: Database): string[] {
  return db.prepare('SELECT name FROM classes ORDER BY name').pluck().all() as string[];
}

/**
 * The usable labeled images of the splits, in a machine-independent order (class, content hash).
 * Files gone from disk are reported now rather than failing mid-epoch.
 */
function loadItems(db: Database, splits: SplitName[], classes: string[]): { items: Item[]; skipped: SkippedImage[] } {
  const rows = db
    .prepare(
      `SELECT i.id, i.path, ${PATH_BYTES}, i.hash, i.format, i.width, i.height, c.name AS class_name FROM images i JOIN classes c ON c.id = i.class_id
       WHERE i.status = 'ok' AND i.excluded = 0 AND i.split IN (SELECT value FROM json_each(?))
       ORDER BY c.name, i.hash`,
    )
    .all(JSON.stringify(splits)) as { id: number; path: string; pathBytes: Buffer | null; hash: string; format: string | null; width: number | null; height: number | null; class_name: string }[];
  const labels = new Map(classes.map((name, i) => [name, i]));
  const items: Item[] = [];
  const skipped: SkippedImage[] = [];
  for (const row of rows) {
    const label = labels.get(row.class_name);
    if (label === undefined) {
      skipped.push({ id: row.id, path: row.path, reason: `its class "${row.class_name}" is not one of the model's classes` });
    } else if (!isFileAt(imageFsPath(row))) {
      skipped.push({ id: row.id, path: row.path, reason: 'the file no longer exists' });
    } else {
      items.push({ id: row.id, path: row.path, file: imageFsPath(row), hash: row.hash, format: row.format, label, width: row.width, height: row.height });
    }
  }
  return { items, skipped };
}

/** The file's bytes, read once, if they are still the format the import recorded. */
function checkedBytes(item: Item): Promise<Buffer> {
  return readAsImported(item.file, item.format);
}

function failureReason(file: FsPath, err: unknown): string {
  if (!isFileAt(file)) return 'the file no longer exists';
  if (err instanceof ChangedSinceImport) return err.message;
  return `cannot decode it: ${sharpMessage(err)}`;
}
