/**
 * The pretrained-weights cache in the app's data folder: <dataDir>/weights/<id>/ holds one
 * weights file and an entry.json describing it (variant, classifier, MD5, where it came from).
 *
 * Files arrive in two ways only, both explicit: `download` (a published Keras file: resumable
 * transfer into .partial/, MD5 check, then an atomic rename into place) and `importFile` (a file the
 * user already has: read through the weight importer first, so only a file that builds a complete
 * model is kept). Nothing else here touches the network, so training can look weights up with
 * `find` and never fetch anything by surprise.
 *
 * Every entry becomes visible by one directory rename of a complete staging folder: a killed
 * process leaves either no entry or a whole one (plus, at worst, a .part file to resume from).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { WeightsFormat, type LocalWeights } from '../../contract/calls-models';
import { ApiError } from '../../contract/contract';
import { getVariant } from '../variants';
import { findPretrained, findPretrainedByMd5, PRETRAINED_FILES, catalogueAt, type PublishedWeightsFile } from './catalogue';
import { md5File } from './file-hash';
import { downloadWithResume, type TransferProgress } from './http-download';

export interface WeightsStoreOptions {
  /** the cache folder, normally <dataDir>/weights */
  dir: string;
  /** a mirror (or test server) holding the catalogue's file names; default Keras' own storage */
  baseUrl?: string;
  /** the published files; default Keras applications' (tests pass their own) */
  catalogue?: readonly PublishedWeightsFile[];
  /** network inactivity that aborts a download; default 15 s */
  timeoutMs?: number;
  /**
   * Readies the TF.js backend that verifying an imported file needs (it builds the model). The
   * service passes the backend room's ensureBackend; without it the process must have one active.
   */
  prepareCompute?: () => Promise<unknown>;
}

export type DownloadPhase = 'connecting' | 'downloading' | 'verifying' | 'done' | 'failed' | 'cancelled';

export interface DownloadProgress extends TransferProgress {
  phase: DownloadPhase;
  file: PublishedWeightsFile;
  bytesPerSecond: number;
  elapsedSeconds: number;
}

export interface DownloadOutcome {
  weights: LocalWeights;
  alreadyPresent: boolean;
  downloadedBytes: number;
  resumedFrom: number;
  elapsedSeconds: number;
}

export interface ImportOutcome {
  weights: LocalWeights;
  alreadyPresent: boolean;
  notes: string[];
}

const ENTRY_FILE = 'entry.json';
const PARTIAL_DIR = '.partial';
const STAGING_PREFIX = '.staging-';
/** staging folders older than this are leftovers of a killed process */
const STALE_STAGING_MS = 60 * 60 * 1000;
const PROGRESS_INTERVAL_MS = 100;

/** What entry.json holds; the absolute path and `verified` are derived when listing. */
const StoredEntry = z.object({
  version: z.literal(1),
  variant: z.string(),
  includeTop: z.boolean(),
  classes: z.number().int().nullable(),
  format: WeightsFormat,
  fileName: z.string(),
  bytes: z.number().int(),
  md5: z.string(),
  source: z.enum(['download', 'import']),
  origin: z.string(),
  timmModel: z.string().nullable(),
  addedAt: z.string(),
});
type StoredEntry = z.infer<typeof StoredEntry>;

export class WeightsStore {
  readonly dir: string;
  readonly catalogue: readonly PublishedWeightsFile[];

  constructor(private readonly options: WeightsStoreOptions) {
    this.dir = options.dir;
    this.catalogue = catalogueAt(options.baseUrl, options.catalogue ?? PRETRAINED_FILES);
  }

  /** Every complete entry of the cache, newest first. Entries whose file went missing are left out. */
  list(): LocalWeights[] {
    if (!fs.existsSync(this.dir)) return [];
    const out: LocalWeights[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      if (name.startsWith('.')) continue;
      const entry = this.readEntry(name);
      if (entry) out.push(entry);
    }
    return out.sort((a, b) => b.addedAt.localeCompare(a.addedAt) || a.id.localeCompare(b.id));
  }

  /** Local weights for a variant, published (verified) files first; null when there are none. */
  find(variant: string, includeTop: boolean): LocalWeights | null {
    const id = getVariant(variant).id;
    const matches = this.list().filter((w) => w.variant === id && w.includeTop === includeTop);
    return matches.find((w) => w.verified) ?? matches[0] ?? null;
  }

  /** Like find, but says in words what to do when there are none (training asks this before it starts). */
  requireWeights(variant: string, includeTop: boolean): LocalWeights {
    const found = this.find(variant, includeTop);
    if (found) return found;
    const spec = getVariant(variant);
    const which = includeTop ? 'with classifier' : 'without classifier';
    const published = findPretrained(this.catalogue, spec.id, includeTop);
    const download = published ? `download them with \`effitune weights download ${spec.id}${includeTop ? '' : ' --notop'}\` (needs internet), ` : '';
    throw new ApiError(
      'not_found',
      `no pretrained weights for ${spec.name} (${which}) on this machine: ${download}import a weights file with \`effitune weights import <file> --model ${spec.id}\`, or train from scratch`,
    );
  }

  /**
   * Download the published file for a variant into the cache. Resumes a .part file left by an
   * interrupted attempt; a file whose MD5 differs from the published one is deleted, never kept.
   */
  async download(
    variant: string,
    includeTop: boolean,
    options: { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void } = {},
  ): Promise<DownloadOutcome> {
    const started = Date.now();
    const spec = getVariant(variant);
    const file = findPretrained(this.catalogue, spec.id, includeTop);
    if (!file) {
      const published = [...new Set(this.catalogue.map((f) => f.variant))].join(', ');
      throw new ApiError('not_found', `no published weights exist for ${spec.name} ${includeTop ? 'with' : 'without'} classifier (published: ${published}); import a file of your own or train from scratch`);
    }
    const existing = this.list().find((w) => w.md5 === file.md5);
    if (existing) return { weights: existing, alreadyPresent: true, downloadedBytes: 0, resumedFrom: 0, elapsedSeconds: 0 };

    const partFile = path.join(this.dir, PARTIAL_DIR, `${file.fileName}.part`);
    fs.mkdirSync(path.dirname(partFile), { recursive: true });
    const release = takeLock(`${partFile}.lock`, file.fileName);
    const progress = progressReporter(file, started, options.onProgress);
    try {
      progress('connecting', { receivedBytes: 0, totalBytes: null, resumedFrom: 0 });
      const transfer = await downloadWithResume({
        url: file.url,
        partFile,
        signal: options.signal,
        timeoutMs: this.options.timeoutMs,
        offlineHint: `Use \`effitune weights import <file>\` with a copy of ${file.fileName} made on a machine with internet`,
        onProgress: (p) => progress('downloading', p),
      });
      const last = { receivedBytes: transfer.totalBytes, totalBytes: transfer.totalBytes, resumedFrom: transfer.resumedFrom };
      progress('verifying', last, true);
      const md5 = await md5File(partFile);
      if (md5 !== file.md5) {
        fs.rmSync(partFile, { force: true });
        throw new ApiError(
          'io_error',
          `${file.fileName} from ${file.url} has MD5 ${md5}, not the published ${file.md5}: the download was damaged or the server sent another file. It was deleted; try again.`,
        );
      }
      const weights = this.commit(entryIdOf(file), { path: partFile, move: true }, {
        variant: file.variant,
        includeTop: file.includeTop,
        classes: file.includeTop ? 1000 : null,
        format: file.format,
        fileName: file.fileName,
        bytes: transfer.totalBytes,
        md5,
        source: 'download',
        origin: file.url,
        timmModel: null,
      });
      progress('done', last, true);
      const elapsedSeconds = (Date.now() - started) / 1000;
      return { weights, alreadyPresent: false, downloadedBytes: transfer.totalBytes - transfer.resumedFrom, resumedFrom: transfer.resumedFrom, elapsedSeconds };
    } catch (err) {
      progress(err instanceof ApiError && err.code === 'cancelled' ? 'cancelled' : 'failed', null, true);
      throw err;
    } finally {
      release();
    }
  }

  /**
   * Copy a weights file the user has (.h5 in the Keras applications layout, timm .safetensors)
   * into the cache, after building a model from it: a file that does not load completely is refused
   * with the importer's message naming the tensor. A byte-identical copy of a published file gets
   * the published file's entry, so importing efficientnetb0_notop.h5 equals downloading it.
   * `file` may also name the folder holding the file (a folder picker's answer; e.g. a timm hub
   * download with its config.json), when it holds exactly one .h5 / .safetensors file.
   */
  async importFile(file: string, options: { variant?: string; timmModel?: string } = {}): Promise<ImportOutcome> {
    const source = weightsFileAt(path.resolve(file));
    const { isHdf5, readKerasH5 } = await import('../weights/keras-h5');
    const format: LocalWeights['format'] = isHdf5(source) ? 'keras-h5' : /\.safetensors$/i.test(source) ? 'timm-safetensors' : unknownFormat(source);

    const md5 = await md5File(source);
    const published = findPretrainedByMd5(this.catalogue, md5);
    const requested = options.variant === undefined ? undefined : getVariant(options.variant);
    if (published && requested && published.variant !== requested.id) {
      throw new ApiError('invalid_input', `${source} is the published ${published.fileName} (${getVariant(published.variant).name}), not ${requested.name}`);
    }

    // the importer needs to know whether to expect a classifier; the file says so itself
    let includeTop: boolean;
    let timmModel: string | null = null;
    if (format === 'keras-h5') {
      const layers = (await readKerasH5(source)).layers;
      includeTop = (layers.get('predictions')?.size ?? 0) > 0 || (layers.get('probs')?.size ?? 0) > 0;
    } else {
      const { readSafetensors } = await import('../weights/safetensors');
      const { resolveTimmArchitecture } = await import('../weights/timm');
      includeTop = readSafetensors(source).tensors.has('classifier.weight');
      const arch = resolveTimmArchitecture(source, options.timmModel);
      timmModel = arch.tag ? `${arch.name}.${arch.tag}` : arch.name;
    }
    const { importWeights } = await import('../weights/import');
    await this.options.prepareCompute?.();
    const imported = await importWeights({ file: source, variant: requested?.id ?? published?.variant, timmModel: options.timmModel, includeTop });
    imported.model.dispose();

    const variant = imported.variant.id;
    // the same .safetensors bytes read as tf_efficientnet_bN or efficientnet_bN are different models
    const id = published ? entryIdOf(published) : `import-${slug(timmModel ?? variant)}${includeTop ? '' : '-notop'}-${md5.slice(0, 12)}`;
    const existing = this.readEntry(id);
    if (existing) return { weights: existing, alreadyPresent: true, notes: imported.notes };
    // a timm file keeps its architecture in its name (and hub config.json): the importer reads them
    const fileName = published?.fileName ?? (timmModel ? `${timmModel}.safetensors` : path.basename(source));
    const config = path.join(path.dirname(source), 'config.json');
    const extras = format === 'timm-safetensors' && fs.existsSync(config) ? [config] : [];
    const weights = this.commit(
      id,
      { path: source, move: false, extras },
      {
        variant,
        includeTop,
        classes: imported.classes,
        format,
        fileName,
        bytes: fs.statSync(source).size,
        md5,
        source: 'import',
        origin: source,
        timmModel,
      },
    );
    return { weights, alreadyPresent: false, notes: imported.notes };
  }

  private readEntry(id: string): LocalWeights | null {
    const folder = path.join(this.dir, id);
    let stored: StoredEntry;
    try {
      stored = StoredEntry.parse(JSON.parse(fs.readFileSync(path.join(folder, ENTRY_FILE), 'utf8')));
    } catch {
      return null; // not an entry (or a damaged one): invisible, like a file that is not there
    }
    const file = path.join(folder, stored.fileName);
    if (!fs.existsSync(file)) return null;
    const { version: _version, fileName: _fileName, ...rest } = stored;
    return { id, ...rest, file, verified: findPretrainedByMd5(this.catalogue, stored.md5) !== null };
  }

  /** Put a file (and its entry.json) into <dir>/<id>/ with one rename of a complete staging folder. */
  private commit(id: string, from: { path: string; move: boolean; extras?: string[] }, entry: Omit<StoredEntry, 'version' | 'addedAt'>): LocalWeights {
    fs.mkdirSync(this.dir, { recursive: true });
    removeStaleStaging(this.dir);
    const staging = fs.mkdtempSync(path.join(this.dir, STAGING_PREFIX));
    const final = path.join(this.dir, id);
    try {
      const target = path.join(staging, entry.fileName);
      if (from.move) fs.renameSync(from.path, target);
      else fs.copyFileSync(from.path, target);
      for (const extra of from.extras ?? []) fs.copyFileSync(extra, path.join(staging, path.basename(extra)));
      const stored: StoredEntry = { version: 1, ...entry, addedAt: new Date().toISOString() };
      fs.writeFileSync(path.join(staging, ENTRY_FILE), JSON.stringify(stored, null, 2) + '\n');
      // a folder without a readable entry is a leftover (e.g. deleted entry.json): replace it
      if (fs.existsSync(final) && !this.readEntry(id)) fs.rmSync(final, { recursive: true, force: true });
      if (!fs.existsSync(final)) fs.renameSync(staging, final);
    } catch (err) {
      throw new ApiError('io_error', `cannot store ${entry.fileName} in ${this.dir}: ${(err as Error).message}`);
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
    const stored = this.readEntry(id);
    if (!stored) throw new ApiError('io_error', `stored ${entry.fileName} in ${final} but cannot read it back`);
    return stored;
  }
}

const WEIGHTS_FILE = /\.(h5|hdf5|safetensors)$/i;

/** The weights file a path names: the file itself, or the only weights file in the folder it names. */
function weightsFileAt(source: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch {
    throw new ApiError('not_found', `weights file ${source} does not exist`);
  }
  if (stat.isFile()) return source;
  if (!stat.isDirectory()) throw new ApiError('invalid_input', `${source} is not a file; expected a .h5 or .safetensors weights file`);
  const found = fs.readdirSync(source).filter((name) => WEIGHTS_FILE.test(name) && fs.statSync(path.join(source, name)).isFile());
  if (found.length === 1) return path.join(source, found[0]);
  if (found.length === 0) throw new ApiError('not_found', `the folder ${source} holds no .h5 or .safetensors weights file`);
  throw new ApiError('invalid_input', `the folder ${source} holds several weights files (${found.sort().join(', ')}); name the file`);
}

function entryIdOf(file: PublishedWeightsFile): string {
  return file.fileName.replace(/\.h5$/, '');
}

/** "phi=-4,alpha=1.2" → "phi_-4_alpha_1.2": safe in a folder name on every OS. */
function slug(text: string): string {
  return text.replace(/[^a-z0-9.-]+/gi, '_');
}

function unknownFormat(file: string): never {
  throw new ApiError('invalid_input', `${file} is neither an HDF5 (.h5) file nor a .safetensors file; Effitune imports Keras applications .h5 weights and timm .safetensors`);
}

/** Throttled progress reports with a transfer rate; phase changes always get through. */
function progressReporter(file: PublishedWeightsFile, started: number, listener: ((p: DownloadProgress) => void) | undefined) {
  let lastAt = 0;
  let lastPhase: DownloadPhase | null = null;
  let last: TransferProgress = { receivedBytes: 0, totalBytes: null, resumedFrom: 0 };
  return (phase: DownloadPhase, transfer: TransferProgress | null, force = false) => {
    if (!listener) return;
    if (transfer) last = transfer;
    const now = Date.now();
    if (!force && phase === lastPhase && now - lastAt < PROGRESS_INTERVAL_MS) return;
    lastAt = now;
    lastPhase = phase;
    const elapsedSeconds = (now - started) / 1000;
    const bytesPerSecond = elapsedSeconds > 0 ? (last.receivedBytes - last.resumedFrom) / elapsedSeconds : 0;
    listener({ ...last, phase, file, bytesPerSecond, elapsedSeconds });
  };
}

/**
 * One download of a file at a time, across processes: a lock file holding the owner's pid. A
 * lock whose process is gone (killed mid-download) is taken over; the .part file stays valid.
 */
function takeLock(lockFile: string, what: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ApiError('io_error', `cannot create ${lockFile}: ${(err as Error).message}`);
      const owner = Number(fs.readFileSync(lockFile, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
        throw new ApiError('busy', `${what} is already being downloaded (process ${owner})`);
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new ApiError('busy', `${what} is already being downloaded`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeStaleStaging(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(STAGING_PREFIX)) continue;
    const folder = path.join(dir, name);
    try {
      if (Date.now() - fs.statSync(folder).mtimeMs > STALE_STAGING_MS) fs.rmSync(folder, { recursive: true, force: true });
    } catch {
      // another process removed it first
    }
  }
}
