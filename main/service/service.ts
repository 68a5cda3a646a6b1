/**
 * The service behind the contract: one handler per call, thin, delegating to the feature modules.
 * Every door (IPC, HTTP, CLI) calls `service.call(name, rawInput)`, which validates the input with
 * the contract's schema first, so no door can skip validation.
 *
 * Per-service state lives in one place: the managers below are fields made in the constructor
 * (none starts a process or opens a file before it is used), handlers-<area>.ts reach them through
 * the service, and close() ends them in one order. Long work with a job id runs in `jobs`.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import fs from 'node:fs';
import { ApiError, calls, isCallName, parseInput, type CallName, type CallOutput, type EventName, type EventPayload } from '../contract/contract';
import { ProjectRegistry } from '../project/registry';
import { defaultDataDir } from '../project/data-dir';
import { getImageDetail, getThumbnail } from '../project/queries';
import { renderFullImage } from '../dataset/media';
import { storedImageFile } from '../dataset/file-name-bytes';
import { WeightsStore } from '../model/manager/weights-store';
import { TrainingManager } from '../train/training-manager';
import { Estimator } from '../train/estimate';
import { ProcessPredictor } from '../eval/predictor-client';
import type { DoorService } from './door-service';
import type { HandlersOf } from './handler';
import { JobRegistry } from './jobs';
import { callError } from './call-errors';
import { projectHandlers } from './handlers-project';
import { importHandlers } from './handlers-import';
import { imageHandlers } from './handlers-images';
import { dataHandlers } from './handlers-data';
import { backendHandlers } from './handlers-backend';
import { inferenceHandlers } from './handlers-inference';
import { modelHandlers } from './handlers-models';
import { trainHandlers } from './handlers-train';
import { scalingHandlers } from './handlers-scaling';
import { ScalingLab } from '../scaling/search-runner';
import { exportHandlers } from './handlers-export';
import { evalHandlers } from './handlers-eval';
import { labelHandlers } from './handlers-labels';
import { handoffHandlers } from './handlers-handoff';

export type AppMode = CallOutput<'app.info'>['mode'];

export interface ServiceOptions {
  mode: AppMode;
  /** App data folder: recent projects, caches, weights. Default: $EFFITUNE_HOME or ~/.effitune */
  dataDir?: string;
  version?: string;
  /** A mirror holding the Keras weights files under their own names. Default: $EFFITUNE_WEIGHTS_URL, else Keras' storage */
  weightsBaseUrl?: string;
}


export class Service implements DoorService {
  private readonly events = new EventEmitter();
  readonly dataDir: string;
  /** The open projects (one SQLite connection each) and the recent-projects list. */
  readonly projects: ProjectRegistry;
  /** The pretrained-weights cache in <dataDir>/weights; only weights.download reaches the network. */
  readonly weights: WeightsStore;
  /** Running imports and weight downloads by job id: busy, cancel, progress events. */
  readonly jobs: JobRegistry;
  /** The runs this service trains, a trainer process each; their messages become train.* events. */
  readonly trainings: TrainingManager;
  /** train.estimate: measures in a worker process and keeps what it measured while the service lives. */
  readonly estimator: Estimator;
  /** Compound-scaling searches: each trains its candidates, one run at a time, through `trainings`. */
  readonly scaling: ScalingLab;
  /** The predictor process of evaluation, assist and predictions, started on the first prediction. */
  readonly predictor: ProcessPredictor;
  private readonly handlers: HandlersOf<typeof calls>;

  constructor(readonly options: ServiceOptions) {
    this.dataDir = options.dataDir ?? defaultDataDir();
    fs.mkdirSync(this.dataDir, { recursive: true });
    const emit = <E extends EventName>(event: E, payload: EventPayload<E>) => this.emit(event, payload);
    this.projects = new ProjectRegistry(this.dataDir);
    this.weights = new WeightsStore({
      dir: path.join(this.dataDir, 'weights'),
      baseUrl: options.weightsBaseUrl ?? (process.env.EFFITUNE_WEIGHTS_URL || undefined),
      prepareCompute: async () => (await import('../backend/ensure-backend')).ensureBackend(),
    });
    this.jobs = new JobRegistry(emit);
    this.trainings = new TrainingManager({ projects: this.projects, emit });
    this.estimator = new Estimator({ projects: this.projects });
    this.scaling = new ScalingLab({ projects: this.projects, trainings: this.trainings, emit });
    this.predictor = new ProcessPredictor();
    this.handlers = this.createHandlers();
  }

  /** Validate and run a call. Throws ApiError with a message in words. */
  async call<N extends CallName>(name: N | string, rawInput: unknown): Promise<CallOutput<N>> {
    if (!isCallName(name)) throw new ApiError('not_found', `unknown call "${name}"; known calls: ${Object.keys(calls).join(', ')}`);
    const args = parseInput(name, rawInput);
    const handler = this.handlers[name] as (a: unknown) => Promise<CallOutput<N>> | CallOutput<N>;
    try {
      return await handler(args);
    } catch (err) {
      // a damaged, read-only or locked project file, a full disk: in words, naming the file
      throw callError(err, name, args);
    }
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
    try {
      return getThumbnail(this.projects.get(project).db, id);
    } catch (err) {
      throw callError(err, 'media', { project }, `show the thumbnail of image ${id}`);
    }
  }

  async fullImage(project: string, id: number): Promise<{ data: Buffer; contentType: string }> {
    let detail;
    let file;
    try {
      const { db } = this.projects.get(project);
      detail = getImageDetail(db, id);
      // the raw bytes of a name that is not UTF-8 (detail.path is then its escaped text)
      file = storedImageFile(db, id) ?? detail.path;
    } catch (err) {
      throw callError(err, 'media', { project }, `show image ${id}`);
    }
    // checked against the format its import recorded before anything decodes it
    return renderFullImage(file, { id, format: detail.format });
  }

  close(): void {
    // work of its own first: runs are cancelled (each keeps its last finished epoch's checkpoint),
    // measuring and predicting workers end, jobs are aborted; then the project files close
    void this.scaling.shutdown();
    void this.trainings.shutdown();
    this.estimator.close();
    this.predictor.close();
    this.jobs.abortAll();
    this.projects.closeAll();
  }

  private createHandlers(): HandlersOf<typeof calls> {
    return {
      ...dataHandlers(this),
      ...backendHandlers(),
      ...inferenceHandlers(),
      ...projectHandlers(this),
      ...importHandlers(this),
      ...imageHandlers(this),
      ...modelHandlers(this),
      ...trainHandlers(this),
      ...evalHandlers(this),
      ...exportHandlers(this),
      ...labelHandlers(this),
      ...scalingHandlers(this),
      ...handoffHandlers(this),
    };
  }
}
