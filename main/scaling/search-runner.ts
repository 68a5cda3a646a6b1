/**
 * The compound-scaling lab's driver: lives in the service process and trains the candidates of a
 * search one after another, each as an ordinary run through the service's TrainingManager (a
 * trainer process per run). After every training it asks schedule.ts what comes next — the next
 * candidate to a rung, the halving of a rung, the repeats — from the states stored in the project,
 * so a search interrupted anywhere (cancel, crash, kill -9, closed app) resumes where its records
 * say it was: finished candidates are kept, a half-trained one goes on from its last epoch.
 */
import { ApiError, type EventName, type EventPayload } from '../contract/contract';
import type { Candidate, SearchReport } from '../contract/calls-scaling';
import { TrainOptions, type TrainOutcome } from '../contract/calls-train';
import type { ProjectHandle, ProjectRegistry } from '../project/registry';
import { getRun } from '../project/runs';
import { probeBackend } from '../backend/probe';
import { addRunNote } from '../train/run-notes';
import { checkTrainable } from '../train/data/trainable';
import { checkNewRun } from '../train/new-run';
import type { TrainingManager } from '../train/training-manager';
import { buildReport } from './search-report';
import { planSearch, type ParsedSearchOptions } from './search-plan';
import { nextStep } from './schedule';
import { median } from './statistics';
import {
  addElapsed,
  claimSearch,
  createSearch,
  endSearch,
  getCandidate,
  getSearch,
  insertCandidate,
  listCandidates,
  listSearches,
  splitKeyOf,
  updateCandidate,
  type SearchRow,
} from './search-store';

export interface ScalingLabOptions {
  projects: ProjectRegistry;
  trainings: TrainingManager;
  emit: <E extends EventName>(event: E, payload: EventPayload<E>) => void;
}

interface LiveSearch {
  project: string;
  searchId: number;
  cancelReason: string | null;
  /** the run training now, for a cancel to stop */
  runId: number | null;
  done: Promise<void>;
}

export class ScalingLab {
  private readonly live = new Map<string, LiveSearch>();

  constructor(private readonly options: ScalingLabOptions) {}

  async start(project: string, options: ParsedSearchOptions): Promise<SearchReport> {
    const handle = this.options.projects.get(project);
    this.refuseSecond(handle);
    const trainable = checkTrainable(handle);
    const { plan, candidates } = planSearch(options, trainable);
    // the first candidate is checked as train.start checks a run, so a bad backend or batch fails now
    checkNewRun(handle, TrainOptions.parse(trainOptionsOf(plan, { model: candidates[0].model, seed: plan.seed, resolution: candidates[0].resolution })));
    if (plan.precision === 'mixed') await checkMixedPrecision();
    const id = createSearch(handle.db, plan, splitKeyOf(handle.db), candidates);
    this.drive(handle, id);
    return this.get(project, id);
  }

  async resume(project: string, searchId: number, budgetMinutes?: number): Promise<SearchReport> {
    const handle = this.options.projects.get(project);
    const search = getSearch(handle.db, searchId);
    if (this.live.has(key(handle.path, searchId))) throw new ApiError('busy', `search ${searchId} is already running`);
    if (search.status === 'running') throw new ApiError('busy', `search ${searchId} is being driven by another Effitune process; use that app to steer it`);
    if (search.status === 'completed' && budgetMinutes === undefined) throw new ApiError('invalid_input', `search ${searchId} completed: there is nothing to resume (start a new search, or resume with a larger budget if it stopped at its budget)`);
    this.refuseSecond(handle);
    if (splitKeyOf(handle.db) !== search.splitKey) {
      throw new ApiError('invalid_input', `the train/validation images changed since search ${searchId} began (a new split, new labels or imports): its candidates would not be comparable; start a new search`);
    }
    if (budgetMinutes !== undefined && search.plan.budgetMinutes !== null && budgetMinutes * 60 <= search.elapsedSeconds) {
      throw new ApiError('invalid_input', `budgetMinutes: search ${searchId} has already trained ${(search.elapsedSeconds / 60).toFixed(1)} min; give a budget above that`);
    }
    const plan = budgetMinutes !== undefined ? { ...search.plan, budgetMinutes } : search.plan;
    claimSearch(handle.db, searchId, plan);
    this.drive(handle, searchId);
    return this.get(project, searchId);
  }

  async cancel(project: string, searchId: number): Promise<SearchReport> {
    const handle = this.options.projects.get(project);
    const search = getSearch(handle.db, searchId);
    const live = this.live.get(key(handle.path, searchId));
    if (!live) {
      if (search.status === 'running' && !search.orphaned) throw new ApiError('busy', `search ${searchId} is being driven by another Effitune process; use that app to stop it`);
      throw new ApiError('invalid_input', `search ${searchId} is not running (it is ${search.status})`);
    }
    live.cancelReason = 'cancelled by the user; resume continues with its finished candidates';
    if (live.runId !== null) await this.options.trainings.cancel(handle.path, live.runId, 'the scaling search was cancelled').catch(() => undefined);
    await live.done;
    return this.get(project, searchId);
  }

  get(project: string, searchId: number): SearchReport {
    const handle = this.options.projects.get(project);
    return buildReport(handle.db, handle.path, getSearch(handle.db, searchId), this.live.has(key(handle.path, searchId)));
  }

  list(project: string): SearchReport[] {
    const handle = this.options.projects.get(project);
    return listSearches(handle.db).map((s) => buildReport(handle.db, handle.path, s, this.live.has(key(handle.path, s.id))));
  }

  async wait(project: string, searchId: number, timeoutSeconds?: number): Promise<SearchReport> {
    const handle = this.options.projects.get(project);
    getSearch(handle.db, searchId);
    const live = this.live.get(key(handle.path, searchId));
    if (live) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        if (timeoutSeconds !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000);
      });
      const result = await Promise.race([live.done.then(() => 'done' as const), timeout]);
      clearTimeout(timer);
      if (result === 'timeout') throw new ApiError('busy', `search ${searchId} is still running after ${timeoutSeconds} s`);
    }
    return this.get(project, searchId);
  }

  /** Stop every search this service drives (the app is closing); each can be resumed. */
  async shutdown(): Promise<void> {
    for (const live of this.live.values()) live.cancelReason = 'stopped: the app closed; resume continues with its finished candidates';
    await Promise.all([...this.live.values()].map((l) => l.done));
  }

  // ---------- internals ----------

  private refuseSecond(handle: ProjectHandle): void {
    const other = [...this.live.values()].find((l) => l.project === handle.path);
    if (other) throw new ApiError('busy', `search ${other.searchId} is running in this project: cancel it or wait for it (one search at a time; each trains both cores)`);
  }

  private drive(handle: ProjectHandle, searchId: number): void {
    const live: LiveSearch = { project: handle.path, searchId, cancelReason: null, runId: null, done: Promise.resolve() };
    this.live.set(key(handle.path, searchId), live);
    live.done = this.loop(handle, live)
      .catch((err) => {
        if (handle.db.open) endSearch(handle.db, searchId, 'failed', `the search failed: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => {
        this.live.delete(key(handle.path, searchId));
        if (handle.db.open) this.changed(handle, searchId, null);
      });
  }

  private async loop(handle: ProjectHandle, live: LiveSearch): Promise<void> {
    const { db } = handle;
    const id = live.searchId;
    this.changed(handle, id, null);
    for (;;) {
      if (!db.open) return;
      if (live.cancelReason) return endSearch(db, id, 'stopped', live.cancelReason);
      const search = getSearch(db, id);
      const budget = search.plan.budgetMinutes;
      if (budget !== null && search.elapsedSeconds >= budget * 60) {
        return endSearch(db, id, 'completed', `the time budget of ${budget} min is used up (${(search.elapsedSeconds / 60).toFixed(1)} min trained): the results are of the candidates that got this far; resume with a larger budget to go on`);
      }
      const candidates = listCandidates(db, id);
      const step = nextStep(search.plan, candidates);
      if (step.kind === 'done') {
        const trained = candidates.filter((c) => c.state === 'finished').length;
        return endSearch(db, id, 'completed', `completed: ${trained} candidate run${trained === 1 ? '' : 's'} trained to the last rung in ${(search.elapsedSeconds / 60).toFixed(1)} min`);
      }
      if (step.kind === 'prune') {
        const epochs = search.plan.rungs[step.rung];
        for (const cid of step.candidateIds) {
          updateCandidate(db, cid, { state: 'pruned', reason: `left out after epoch ${epochs} (rung ${step.rung + 1}): in the lower half of the compound candidates by validation accuracy` });
          this.changed(handle, id, cid);
        }
        continue;
      }
      if (step.kind === 'repeat') {
        let position = Math.max(...candidates.map((c) => c.position)) + 1;
        for (const of of step.of) {
          const original = candidates.find((c) => c.id === of)!;
          const cid = insertCandidate(db, id, position++, original, search.plan.repeatSeed, original.id);
          this.changed(handle, id, cid);
        }
        continue;
      }
      await this.train(handle, live, search, getCandidate(db, id, step.candidateId), step.toEpochs);
    }
  }

  /** Train one candidate to `toEpochs` (a new run, or its run resumed) and record what it reached. */
  private async train(handle: ProjectHandle, live: LiveSearch, search: SearchRow, candidate: Candidate, toEpochs: number): Promise<void> {
    const { db } = handle;
    const { plan } = search;
    const launch = toEpochs < plan.epochs ? { stopAfterEpochs: toEpochs } : {};
    const began = performance.now();
    updateCandidate(db, candidate.id, { state: 'training', reason: null });
    this.changed(handle, search.id, candidate.id);
    let runId = candidate.runId;
    let outcome: TrainOutcome;
    try {
      if (runId === null) {
        const options = TrainOptions.parse(trainOptionsOf(plan, candidate));
        const started = await this.options.trainings.start(handle.path, options, launch);
        runId = started.run.id;
        updateCandidate(db, candidate.id, { runId });
        // the run says which search it belongs to, wherever runs are listed
        addRunNote(db, runId, 'info', `candidate ${candidate.position + 1} of scaling search ${search.id}: ${describeCandidate(candidate)} at φ ${candidate.phi} above base φ ${plan.basePhi}${candidate.repeatOf === null ? '' : `, seed ${candidate.seed} (a repeat)`}`);
      } else if (getRun(db, runId).status !== 'completed') {
        await this.resumeRun(handle, runId, launch);
      }
      live.runId = runId;
      this.changed(handle, search.id, candidate.id);
      outcome = await this.options.trainings.wait(handle.path, runId);
    } catch (err) {
      addElapsed(db, search.id, (performance.now() - began) / 1000);
      const message = err instanceof Error ? err.message : String(err);
      updateCandidate(db, candidate.id, { state: 'failed', reason: `its run could not train: ${message}` });
      this.changed(handle, search.id, candidate.id);
      return;
    } finally {
      live.runId = null;
    }
    addElapsed(db, search.id, (performance.now() - began) / 1000);
    this.record(handle, live, search.id, candidate, outcome, toEpochs);
  }

  /**
   * Resume a candidate's run. Right after the process driving a search was killed, its trainer may
   * still be winding down (it cancels itself when its parent goes): wait for it rather than fail.
   */
  private async resumeRun(handle: ProjectHandle, runId: number, launch: { stopAfterEpochs?: number }): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        await this.options.trainings.resume(handle.path, runId, undefined, launch);
        return;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'busy') || Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private record(handle: ProjectHandle, live: LiveSearch, searchId: number, candidate: Candidate, outcome: TrainOutcome, toEpochs: number): void {
    const { db } = handle;
    const epochsDone = outcome.epochs.length;
    const speeds = outcome.epochs.map((e) => e.imagesPerSecond).filter((s) => s > 0);
    const results = {
      runId: outcome.run.id,
      epochsDone,
      valAcc: outcome.final?.valAcc ?? null,
      valLoss: outcome.final?.valLoss ?? null,
      secondsPerImage: speeds.length > 0 ? 1 / median(speeds) : null,
      peakMemoryBytes: Math.max(candidate.peakMemoryBytes ?? 0, outcome.peakMemoryBytes ?? 0) || null,
    };
    const status = outcome.run.status;
    if (status === 'completed') {
      updateCandidate(db, candidate.id, { ...results, state: 'finished', reason: epochsDone < toEpochs ? outcome.run.reason : null });
    } else if (status === 'cancelled' && epochsDone >= toEpochs) {
      updateCandidate(db, candidate.id, { ...results, state: 'waiting', reason: `trained ${epochsDone} epochs; waiting for the rung to end` });
    } else if (status === 'cancelled') {
      updateCandidate(db, candidate.id, { ...results, state: 'waiting', reason: `stopped at epoch ${epochsDone} of ${toEpochs}; resume goes on` });
      // a candidate's run cancelled from outside (the Train tab, train.cancel) stops the search rather than be started again
      live.cancelReason ??= `stopped: run ${outcome.run.id} of candidate ${candidate.position + 1} was cancelled; resume continues`;
    } else {
      updateCandidate(db, candidate.id, { ...results, state: 'failed', reason: outcome.run.reason ?? `its run ${status}` });
    }
    this.changed(handle, searchId, candidate.id);
  }

  private changed(handle: ProjectHandle, searchId: number, candidateId: number | null): void {
    const search = getSearch(handle.db, searchId);
    this.options.emit('scale.updated', {
      project: handle.path,
      searchId,
      status: search.status,
      candidate: candidateId === null ? null : getCandidate(handle.db, searchId, candidateId),
    });
  }
}

/**
 * A search in mixed precision trains every candidate on the engine in float16 activations: where
 * WebGPU cannot train, or its adapter has no shader-f16, each of them would fail in turn, so the
 * search is refused before the first (the probe runs in a child process, a few seconds).
 */
async function checkMixedPrecision(): Promise<void> {
  const webgpu = await probeBackend('webgpu');
  const why = 'precision: mixed trains every candidate on the Effitune WebGPU engine in float16 activations';
  if (!webgpu.loads || !webgpu.canTrain) throw new ApiError('invalid_input', `${why}, and WebGPU cannot train here (${webgpu.reason ?? 'it does not load'}): use precision fp32`);
  // a loading adapter without the field lists none of the features the engine can use
  if (!(webgpu.gpuFeatures ?? []).includes('shader-f16')) throw new ApiError('invalid_input', `${why}, and this GPU (${webgpu.device?.split(';')[0] ?? 'the WebGPU adapter'}) has no shader-f16: use precision fp32`);
}

/** The options of a candidate's run: everything but the model and seed the same for every candidate. */
export function trainOptionsOf(plan: SearchRow['plan'], candidate: Pick<Candidate, 'model' | 'seed' | 'resolution'>): Record<string, unknown> {
  return {
    model: candidate.model,
    // the candidate's own resolution: the recipe would otherwise fit it to the images and erase γ
    resolution: candidate.resolution,
    mode: 'full',
    epochs: plan.epochs,
    batch: plan.batch,
    ...(plan.backend ? { backend: plan.backend } : {}),
    ...(plan.precision === 'mixed' ? { precision: 'mixed' } : {}),
    seed: candidate.seed,
    subset: { train: plan.subset.train, val: plan.subset.val, seed: plan.subset.seed },
    // every candidate reads the same images: decode them once for all
    ...(plan.decodeCache ? { decodeCache: plan.decodeCache } : {}),
  };
}

function describeCandidate(c: Candidate): string {
  if (c.role === 'compound') return `α ${c.alpha}, β ${c.beta}, γ ${c.gamma}`;
  if (c.role === 'paper') return "the paper's α 1.2, β 1.1, γ 1.15";
  return c.role === 'base' ? 'the base network' : `${c.role} alone (α ${c.alpha}, β ${c.beta}, γ ${c.gamma})`;
}

function key(project: string, searchId: number): string {
  return `${project}\u0000${searchId}`;
}
