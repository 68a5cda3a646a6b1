/**
 * The service behind the contract: one handler per call, thin, delegating to the feature modules.
 * Every door (IPC, HTTP, CLI) calls `service.call(name, rawInput)`, which validates the input with
 * the contract's schema first, so no door can skip validation.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { ApiError, calls, isCallName, parseInput, type CallArgs, type CallName, type CallOutput, type EventName, type EventPayload } from '../contract/contract';
import { ProjectRegistry } from '../project/registry';
import { getImageDetail, getThumbnail, listImages, projectStatus } from '../project/queries';
import { importFolder } from '../dataset/import-folder';
import { generateSampleFolder } from '../dataset/sample';
import { renderFullImage } from '../dataset/media';
import { listDirectory } from '../dataset/list-directory';
import { dataHandlers } from './handlers-data';
import { backendHandlers } from './handlers-backend';
import { WeightsStore } from '../model/manager/weights-store';
import { modelHandlers } from './handlers-models';
import { trainHandlers } from './handlers-train';
import { exportHandlers } from './handlers-export';
import { evalHandlers } from './handlers-eval';
import { labelHandlers } from './handlers-labels';

export type AppMode = 'electron' | 'browser' | 'cli';

export interface ServiceOptions {
  mode: AppMode;
  /** App data folder: recent projects, caches, weights. Default: $EFFITUNE_HOME or ~/.effitune */
  dataDir?: string;
  version?: string;
  /** A mirror holding the Keras weights files under their own names. Default: $EFFITUNE_WEIGHTS_URL, else Keras' storage */
  weightsBaseUrl?: string;
}

type Handlers = { [N in CallName]: (args: CallArgs<N>) => Promise<CallOutput<N>> | CallOutput<N> };

export function defaultDataDir(): string {
  return process.env.EFFITUNE_HOME || path.join(os.homedir(), '.effitune');
}

export class Service {
  readonly events = new EventEmitter();
  readonly projects: ProjectRegistry;
  private readonly imports = new Map<string, AbortController>();
  /** Running weight downloads by job id (weights.cancel aborts them). */
  readonly downloads = new Map<string, AbortController>();
  /** The pretrained-weights cache in <dataDir>/weights; only weights.download reaches the network. */
  readonly weights: WeightsStore;
  private readonly handlers: Handlers;
  readonly dataDir: string;

  constructor(readonly options: ServiceOptions) {
    this.dataDir = options.dataDir ?? defaultDataDir();
    fs.mkdirSync(this.dataDir, { recursive: true });
    this.projects = new ProjectRegistry(this.dataDir);
    this.weights = new WeightsStore({
      dir: path.join(this.dataDir, 'weights'),
      baseUrl: options.weightsBaseUrl ?? (process.env.EFFITUNE_WEIGHTS_URL || undefined),
      prepareCompute: async () => (await import('../backend/ensure-backend')).ensureBackend(),
    });
    this.handlers = this.createHandlers();
  }

  /** Validate and run a call. Throws ApiError with a message in words. */
  async call<N extends CallName>(name: N | string, rawInput: unknown): Promise<CallOutput<N>> {
    if (!isCallName(name)) throw new ApiError('not_found', `unknown call "${name}"; known calls: ${Object.keys(calls).join(', ')}`);
    const args = parseInput(name, rawInput);
    const handler = this.handlers[name] as (a: unknown) => Promise<CallOutput<N>> | CallOutput<N>;
    return await handler(args);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.events.emit('event', event, payload);
  }

  /** Listen to every event (used by the doors to forward them). */
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  thumbnail(project: string, id: number): Buffer | null {
    return getThumbnail(this.projects.get(project).db, id);
  }

  async fullImage(project: string, id: number): Promise<{ data: Buffer; contentType: string }> {
    const detail = getImageDetail(this.projects.get(project).db, id);
    return renderFullImage(detail.path);
  }

  close(): void {
    // areas with work of their own (training runs) stop it on this event
    this.events.emit('close');
    for (const c of this.imports.values()) c.abort();
    for (const c of this.downloads.values()) c.abort();
    this.projects.closeAll();
  }

  private createHandlers(): Handlers {
    return {
      ...dataHandlers(this),
      ...backendHandlers(),
      ...trainHandlers(this),
      ...exportHandlers(this),
      ...evalHandlers(this),
      'app.info': () => ({ version: this.options.version ?? '0.0.0', dataDir: this.dataDir, platform: process.platform, mode: this.options.mode }),
      'project.create': ({ path: file, name }) => this.projects.create(file, name),
      'project.open': ({ path: file }) => this.projects.open(file),
      'project.recent': () => ({ projects: this.projects.recent() }),
      'project.rename': ({ project, name }) => this.projects.rename(project, name),
      'project.close': ({ project }) => ({ closed: this.projects.close(project) }),
      'project.status': ({ project }) => projectStatus(this.projects.get(project)),
      'import.folder': (args) => this.runImport(args),
      'import.cancel': ({ jobId }) => {
        const controller = this.imports.get(jobId);
        controller?.abort();
        return { cancelled: Boolean(controller) };
      },
      'images.list': ({ project, filter, offset, limit }) => listImages(this.projects.get(project).db, filter, offset, limit),
      'images.get': ({ project, id }) => getImageDetail(this.projects.get(project).db, id),
      'sample.create': async ({ path: file, imagesPerClass }) => {
        const info = this.projects.create(file, 'Sample shapes');
        const folder = this.projects.sideFolder(file, 'sample-images');
        await generateSampleFolder(folder, imagesPerClass);
        const result = await this.runImport({ project: file, folder, labelsFromFolders: true });
        return { project: info, folder, import: result };
      },
      'fs.list': ({ path: dir }) => listDirectory(dir ?? os.homedir()),
      ...modelHandlers(this),
      ...labelHandlers(this),
    };
  }

  private async runImport(args: CallArgs<'import.folder'>): Promise<CallOutput<'import.folder'>> {
    const jobId = args.jobId ?? `import-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    if (this.imports.has(jobId)) throw new ApiError('busy', `an import with job id "${jobId}" is already running`);
    const handle = this.projects.get(args.project);
    const controller = new AbortController();
    this.imports.set(jobId, controller);
    try {
      const result = await importFolder(handle, {
        folder: args.folder,
        labelsFromFolders: args.labelsFromFolders,
        jobId,
        signal: controller.signal,
        onProgress: (p) => this.emit('import.progress', p),
      });
      this.emit('project.changed', { project: handle.path });
      return result;
    } finally {
      this.imports.delete(jobId);
    }
  }
}
