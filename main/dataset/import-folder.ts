/**
 * Import (or re-import) a folder of images into a project.
 *
 * A scan walks the folder while a fixed number of workers take the files it finds: stat, skip when
 * unchanged since the last import, read once, hash, inspect + thumbnail in one sharp pipeline, and
 * hand a row to the batched writer. Every file ends as exactly one outcome (imported, updated,
 * unchanged, duplicate, rejected with a reason); nothing about a single file can stop the import.
 * Files are opened by what the scan found (raw bytes for a name that is not UTF-8) and recorded by
 * their text form, with those bytes beside it (file-name-bytes.ts).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiError, type ImportProgress, type ImportResult } from '../contract/contract';
import type { ProjectHandle } from '../project/registry';
import { claimImport } from '../project/import-claim';
import { isSqliteError, isUniqueConstraintRace, projectFileError } from '../project/storage-errors';
import { inspectImage } from './inspect-image';
import { ImportWriter, type ExistingImage } from './import-writer';
import { scanFolder, type FoundFile } from './scan-folder';
import { existsAt, imageFsPath, samePathBytes, shownPath, storedPathBytes, type FsPath } from './file-name-bytes';

export interface ImportFolderOptions {
  folder: string;
  labelsFromFolders: boolean;
  jobId: string;
  signal?: AbortSignal;
  onProgress?: (progress: ImportProgress) => void;
  /** files in flight at once; the default keeps sharp's thread pool busy while files are read */
  concurrency?: number;
}

/** Larger files are refused unread: no single image is worth holding gigabytes in memory. */
export const MAX_FILE_BYTES = 1024 ** 3;
const PROGRESS_INTERVAL_MS = 100;

/** One import per project at a time: two would race for the same rows. */
const projectsImporting = new Set<string>();

export function defaultImportConcurrency(): number {
  return Math.min(32, Math.max(4, os.availableParallelism() * 2));
}

export async function importFolder(handle: ProjectHandle, options: ImportFolderOptions): Promise<ImportResult> {
  const root = path.resolve(options.folder);
  // checked and taken before the first await, so two calls in the same tick cannot both pass
  if (projectsImporting.has(handle.path)) throw new ApiError('busy', `project ${handle.path} is already importing a folder; wait for it to finish or cancel it`);
  projectsImporting.add(handle.path);
  try {
    await checkImportFolder(root);
    // another process importing into this project is refused here, before it can race us for rows
    const claim = claimImport(handle.db, handle.path, root);
    try {
      return await new FolderImport(handle, root, options).run();
    } finally {
      claim.release();
    }
  } finally {
    projectsImporting.delete(handle.path);
  }
}

async function checkImportFolder(folder: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(folder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ApiError('not_found', `folder ${folder} does not exist`);
    throw new ApiError('io_error', `cannot read folder ${folder}: ${(err as Error).message}`);
  }
  if (!stat.isDirectory()) throw new ApiError('invalid_input', `${folder} is not a folder`);
}

type Phase = ImportProgress['phase'];
type Owner = { kind: 'duplicate'; path: string } | { kind: 'moved'; id: number };

class FolderImport {
  private readonly writer: ImportWriter;
  private readonly started = performance.now();
  private readonly signal: AbortSignal;
  /** stops the scan and the workers: on cancel, or when a worker fails */
  private readonly stop = new AbortController();
  private readonly concurrency: number;

  // the scan fills the queue, the workers drain it
  private readonly queue: FoundFile[] = [];
  private queueHead = 0;
  private scanning = true;
  private wakeWorkers: (() => void)[] = [];

  private readonly counts = { found: 0, seen: 0, imported: 0, updated: 0, unchanged: 0, duplicate: 0 };
  private readonly duplicates: ImportResult['duplicates'] = [];
  private readonly rejections: ImportResult['rejections'] = [];
  /** paths that exist and were dealt with in this run: anything else of this folder is missing */
  private readonly present = new Set<string>();
  /** content hashes of usable images taken in this run, to the path that took them */
  private readonly claimed = new Map<string, string>();

  private phase: Phase = 'scanning';
  private lastProgress = -Infinity;

  private readonly projectPath: string;

  constructor(
    handle: ProjectHandle,
    private readonly root: string,
    private readonly options: ImportFolderOptions,
  ) {
    this.projectPath = handle.path;
    this.signal = options.signal ?? new AbortController().signal;
    this.concurrency = Math.max(1, options.concurrency ?? defaultImportConcurrency());
    this.writer = new ImportWriter(handle.db, ImportWriter.ensureSource(handle.db, root, options.labelsFromFolders));
  }

  async run(): Promise<ImportResult> {
    const onAbort = () => {
      this.stop.abort();
      this.wake();
    };
    if (this.signal.aborted) onAbort();
    this.signal.addEventListener('abort', onAbort);
    this.report('scanning');
    try {
      const scan = this.scan();
      const workers = Array.from({ length: this.concurrency }, () => this.work());
      const outcomes = await Promise.allSettled([scan, ...workers]);
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      this.writer.flush();
      let missing = 0;
      const cancelled = this.signal.aborted;
      if (!cancelled) {
        // only a complete scan can say which files are gone
        this.report('finishing');
        missing = this.writer.markMissing(this.present);
        this.writer.finishSource();
      }
      this.report(cancelled ? 'cancelled' : 'done');
      return this.result(cancelled, missing);
    } catch (err) {
      this.report('failed');
      throw asApiError(err, this.root, this.projectPath);
    } finally {
      this.signal.removeEventListener('abort', onAbort);
    }
  }

  private async scan(): Promise<void> {
    try {
      await scanFolder(this.root, {
        labelsFromFolders: this.options.labelsFromFolders,
        signal: this.stop.signal,
        onFile: (file) => {
          this.queue.push(file);
          this.counts.found++;
          this.wake();
        },
        onProblem: (problem) => this.rejections.push(problem),
      });
    } catch (err) {
      // only the root's realpath can throw here: the folder vanished right after the import began
      this.rejections.push({ path: this.root, reason: `the folder cannot be read: ${(err as Error).message}` });
    } finally {
      this.scanning = false;
      this.wake();
      if (!this.stop.signal.aborted) this.report('importing');
    }
  }

  private async work(): Promise<void> {
    try {
      for (let file = await this.nextFile(); file; file = await this.nextFile()) {
        await this.importFile(file);
        this.counts.seen++;
        this.writer.flushIfDue();
        this.report(this.phase);
      }
    } catch (err) {
      this.stop.abort();
      this.wake();
      throw err;
    }
  }

  private async nextFile(): Promise<FoundFile | undefined> {
    for (;;) {
      if (this.stop.signal.aborted) return undefined;
      if (this.queueHead < this.queue.length) {
        const file = this.queue[this.queueHead++];
        if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
          this.queue.splice(0, this.queueHead);
          this.queueHead = 0;
        }
        return file;
      }
      if (!this.scanning) return undefined;
      await new Promise<void>((resolve) => this.wakeWorkers.push(resolve));
    }
  }

  private wake(): void {
    const waiting = this.wakeWorkers;
    this.wakeWorkers = [];
    for (const resolve of waiting) resolve();
  }

  private async importFile(file: FoundFile): Promise<void> {
    const existing = this.writer.findByPath(file.path);
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(file.fsPath);
    } catch (err) {
      return this.cannotRead(file, existing, err, null);
    }
    if (existing && isUnchanged(existing, stat, storedPathBytes(file.fsPath))) {
      this.present.add(file.path);
      this.counts.unchanged++;
      if (existing.missing || (file.className !== null && existing.class_id === null)) this.writer.add({ kind: 'seen', id: existing.id, className: file.className });
      return;
    }
    if (!stat.isFile()) return this.reject(file, existing, stat, `not a regular file (${fileKind(stat)})`, { hash: null });
    if (stat.size === 0) return this.reject(file, existing, stat, 'empty file (0 bytes)', { hash: null });
    if (stat.size > MAX_FILE_BYTES) {
      return this.reject(file, existing, stat, `file is ${(stat.size / 1024 ** 3).toFixed(1)} GB, above the ${MAX_FILE_BYTES / 1024 ** 3} GB limit for one image`, { hash: null });
    }

    let data: Buffer;
    try {
      data = await fs.promises.readFile(file.fsPath);
    } catch (err) {
      return this.cannotRead(file, existing, err, stat);
    }
    const hash = createHash('sha256').update(data).digest('hex');
    // A copy of an image we already have is not decoded at all.
    const early = this.ownerOf(hash, file, existing);
    if (early?.kind === 'duplicate') return this.duplicate(file, existing, stat, hash, early.path);

    const inspection = await inspectImage(data, file.path);
    if (!inspection.ok) return this.reject(file, existing, stat, inspection.reason, { hash });
    // Another worker may have taken the same content while this one was decoding.
    const owner = this.ownerOf(hash, file, existing);
    if (owner?.kind === 'duplicate') return this.duplicate(file, existing, stat, hash, owner.path);

    this.claimed.set(hash, file.path);
    this.present.add(file.path);
    const movedId = owner?.kind === 'moved' ? owner.id : null;
    if (movedId !== null || existing?.status === 'ok') this.counts.updated++;
    else this.counts.imported++;
    this.writer.add({
      kind: 'store',
      path: file.path,
      pathBytes: storedPathBytes(file.fsPath),
      existingId: existing?.id ?? null,
      movedId,
      bytes: stat.size,
      mtimeMs: stat.mtimeMs,
      hash,
      status: 'ok',
      reason: null,
      width: inspection.width,
      height: inspection.height,
      format: inspection.format,
      className: file.className,
      thumbnail: inspection.thumbnail,
    });
  }

  /**
   * Who already has this content: a file taken earlier in this run, or a usable row of the project.
   * A row whose file is gone is not a rival but the same image moved here: it follows the file.
   */
  private ownerOf(hash: string, file: FoundFile, existing: ExistingImage | undefined): Owner | undefined {
    const claimedBy = this.claimed.get(hash);
    if (claimedBy !== undefined && claimedBy !== file.path) return { kind: 'duplicate', path: claimedBy };
    const row = this.writer.findOkByHash(hash, existing?.id ?? null);
    if (!row) return undefined;
    return existsAt(imageFsPath(row)) ? { kind: 'duplicate', path: row.path } : { kind: 'moved', id: row.id };
  }

  private duplicate(file: FoundFile, existing: ExistingImage | undefined, stat: fs.Stats, hash: string, originalPath: string): void {
    this.present.add(file.path);
    this.counts.duplicate++;
    this.duplicates.push({ path: file.path, duplicateOf: originalPath });
    this.writer.add({ ...emptyRecord(file, existing, stat), hash, status: 'duplicate', reason: `same content as ${originalPath}` });
  }

  private reject(file: FoundFile, existing: ExistingImage | undefined, stat: fs.Stats | null, reason: string, extra: { hash: string | null; retry?: boolean }): void {
    this.present.add(file.path);
    this.rejections.push({ path: file.path, reason });
    const record = { ...emptyRecord(file, existing, stat), hash: extra.hash, status: 'rejected' as const, reason };
    // A file we could not read may be readable next time: no mtime, so the next import reads it again.
    if (extra.retry) record.mtimeMs = null;
    this.writer.add(record);
  }

  /** stat or read failed: a vanished file, a broken link, no permission, ... */
  private async cannotRead(file: FoundFile, existing: ExistingImage | undefined, err: unknown, stat: fs.Stats | null): Promise<void> {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const link = await brokenLinkTarget(file.fsPath);
      if (link !== null) return this.reject(file, existing, stat, `broken symbolic link: its target ${link} does not exist`, { hash: null, retry: true });
      this.rejections.push({ path: file.path, reason: 'the file vanished during the import' });
      if (existing?.status === 'ok') this.writer.add({ kind: 'vanished', id: existing.id });
      return;
    }
    const reason = code === 'EACCES' || code === 'EPERM' ? 'the file cannot be read: permission denied' : `the file cannot be read: ${(err as Error).message}`;
    this.reject(file, existing, stat, reason, { hash: null, retry: true });
  }

  /** Progress events: at most every 100 ms for counts, at once for a change of phase. */
  private report(phase: Phase): void {
    const now = performance.now();
    if (phase === this.phase && now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    if (phase !== this.phase && (this.phase === 'done' || this.phase === 'cancelled' || this.phase === 'failed')) return;
    this.phase = phase;
    this.lastProgress = now;
    if (!this.options.onProgress) return;
    const elapsed = (now - this.started) / 1000;
    this.options.onProgress({
      jobId: this.options.jobId,
      phase,
      seen: this.counts.seen,
      total: this.counts.found,
      imported: this.counts.imported + this.counts.updated,
      unchanged: this.counts.unchanged,
      duplicates: this.counts.duplicate,
      rejected: this.rejections.length,
      ratePerSecond: elapsed > 0 ? this.counts.seen / elapsed : 0,
      elapsedSeconds: elapsed,
    });
  }

  private result(cancelled: boolean, missing: number): ImportResult {
    const elapsed = (performance.now() - this.started) / 1000;
    return {
      jobId: this.options.jobId,
      folder: this.root,
      cancelled,
      seen: this.counts.seen,
      imported: this.counts.imported,
      unchanged: this.counts.unchanged,
      updated: this.counts.updated,
      duplicate: this.counts.duplicate,
      rejected: this.rejections.length,
      missing,
      duplicates: this.duplicates,
      rejections: this.rejections,
      classes: this.writer.classCounts(),
      elapsedSeconds: elapsed,
      imagesPerSecond: elapsed > 0 ? this.counts.seen / elapsed : 0,
    };
  }
}

function emptyRecord(file: FoundFile, existing: ExistingImage | undefined, stat: fs.Stats | null) {
  return {
    kind: 'store' as const,
    path: file.path,
    pathBytes: storedPathBytes(file.fsPath),
    existingId: existing?.id ?? null,
    movedId: null,
    bytes: stat?.size ?? 0,
    mtimeMs: stat?.mtimeMs ?? null,
    width: null,
    height: null,
    format: null,
    className: file.className,
    thumbnail: null,
  };
}

/** Unchanged since the last import: same size and modification time, and last read successfully. */
function isUnchanged(existing: ExistingImage, stat: fs.Stats, pathBytes: Buffer | null): boolean {
  // Duplicates are always re-read: their original may have gone, and then they become the original.
  if (existing.status === 'duplicate' || existing.mtime_ms === null) return false;
  // the same text, other bytes: another file took the name (one really named as the other's escaped form)
  if (!samePathBytes(existing.path_bytes, pathBytes)) return false;
  return existing.bytes === stat.size && existing.mtime_ms === stat.mtimeMs;
}

async function brokenLinkTarget(file: FsPath): Promise<string | null> {
  try {
    const stat = await fs.promises.lstat(file);
    return stat.isSymbolicLink() ? shownPath(await fs.promises.readlink(file, { encoding: 'buffer' })) : null;
  } catch {
    return null;
  }
}

function fileKind(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a plain file';
}

function asApiError(err: unknown, folder: string, project: string): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isUniqueConstraintRace(err)) {
    return new ApiError('busy', `import of ${folder} stopped: another import into project ${project} wrote the same files at the same time (${message}); import again once it has finished`);
  }
  // the project file full, read-only, locked or damaged (file errors of single images never get here)
  const fileError = isSqliteError(err) ? projectFileError(err, project, `import ${folder}`) : null;
  if (fileError) return fileError;
  return new ApiError('internal', `import of ${folder} stopped: ${message}`);
}
