/**
 * The live state of this project's runs, built from the train.* events. Events are kept per run id
 * from the moment the screen opens, because a run's first events (status, notes, progress) can
 * arrive before train.start has answered with its id. A run already training when the screen opens
 * (another window, a reload) is picked up through train.active, runs.get and train.notes. A run
 * that ends is read back once for its baseline (is the kept model better than guessing?); a deleted
 * run (runs.deleted) is forgotten.
 */
import { useCallback, useEffect, useReducer } from 'react';
import { useClient, useEvent, useReportError } from '../api/client-context';
import type { EpochRecord, RunBaseline, RunStatus } from '../../../main/contract/calls-data';
import type { TrainNote, TrainProgress, TrainStarted } from '../../../main/contract/calls-train';

export interface LiveRun {
  runId: number;
  status: RunStatus;
  reason: string | null;
  /** planned epochs (from the progress events; else from the run's configuration) */
  epochs: number | null;
  progress: TrainProgress | null;
  records: EpochRecord[];
  bestEpoch: number | null;
  notes: TrainNote[];
  started: Omit<TrainStarted, 'run'> | null;
  /** the backend the run's record names (what a picked-up run shows until it reports itself) */
  backend: string | null;
  /** the kept model against guessing, read from the record once the run has ended (null before) */
  baseline: RunBaseline | null;
}

type Action =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'epoch'; runId: number; epochs: number; record: EpochRecord; isBest: boolean }
  | { type: 'status'; runId: number; status: RunStatus; reason: string | null }
  | { type: 'note'; runId: number; note: TrainNote }
  | { type: 'started'; started: TrainStarted }
  | { type: 'loaded'; run: LiveRun }
  | { type: 'baseline'; runId: number; baseline: RunBaseline | null }
  | { type: 'deleted'; runId: number };

type State = Record<number, LiveRun>;

function blank(runId: number): LiveRun {
  return { runId, status: 'running', reason: null, epochs: null, progress: null, records: [], bestEpoch: null, notes: [], started: null, backend: null, baseline: null };
}

function reduce(state: State, action: Action): State {
  if (action.type === 'deleted') {
    const { [action.runId]: _gone, ...rest } = state;
    return rest;
  }
  const runId = action.type === 'progress' ? action.progress.runId : action.type === 'started' ? action.started.run.id : action.type === 'loaded' ? action.run.runId : action.runId;
  const run = state[runId] ?? blank(runId);
  let next: LiveRun;
  switch (action.type) {
    case 'progress':
      next = { ...run, progress: action.progress, epochs: action.progress.epochs };
      break;
    case 'epoch':
      next = {
        ...run,
        epochs: action.epochs,
        records: [...run.records.filter((r) => r.epoch !== action.record.epoch), action.record].sort((a, b) => a.epoch - b.epoch),
        bestEpoch: action.isBest ? action.record.epoch : run.bestEpoch,
      };
      break;
    case 'status':
      next = { ...run, status: action.status, reason: action.reason };
      break;
    case 'note':
      next = { ...run, notes: [...run.notes, action.note] };
      break;
    case 'started': {
      const { run: record, ...started } = action.started;
      // The answer comes once the trainer runs; a 'running' event may already have overtaken a 'queued'
      // record. Its notes are words the trainer also sends as note events: they are not copied.
      next = { ...run, started, status: record.status === 'queued' && run.status === 'running' ? 'running' : record.status, reason: record.reason };
      break;
    }
    case 'loaded':
      // What was read back is older than anything the events said since: events win.
      next = { ...action.run, progress: run.progress ?? action.run.progress, notes: run.notes.length ? run.notes : action.run.notes, records: run.records.length >= action.run.records.length ? run.records : action.run.records };
      break;
    case 'baseline':
      next = { ...run, baseline: action.baseline };
      break;
  }
  return { ...state, [runId]: next };
}

export function useLiveRuns(project: string, onRunEnded: (runId: number) => void) {
  const client = useClient();
  const reportError = useReportError();
  const [runs, dispatch] = useReducer(reduce, {});

  useEvent('train.progress', (p) => p.project === project && dispatch({ type: 'progress', progress: p }));
  useEvent('train.epoch', (e) => e.project === project && dispatch({ type: 'epoch', ...e }));
  useEvent('train.status', (e) => e.project === project && dispatch({ type: 'status', ...e }));
  useEvent('train.note', (e) => e.project === project && dispatch({ type: 'note', runId: e.runId, note: e.note }));
  useEvent('train.done', (e) => {
    if (e.project !== project) return;
    dispatch({ type: 'status', ...e });
    onRunEnded(e.runId);
    client.call('runs.get', { project, id: e.runId }).then(
      ({ run }) => dispatch({ type: 'baseline', runId: e.runId, baseline: run.baseline }),
      (err) => reportError(err, `Cannot read run #${e.runId}`),
    );
  });
  useEvent('runs.deleted', (e) => e.project === project && dispatch({ type: 'deleted', runId: e.runId }));

  /** Read a run's epochs, notes and status from the project (for a run this screen did not start). */
  const load = useCallback(
    async (runId: number, progress: TrainProgress | null = null) => {
      const [{ run, epochs }, { notes }] = await Promise.all([client.call('runs.get', { project, id: runId }), client.call('train.notes', { project, runId })]);
      const planned = typeof run.config.epochs === 'number' ? run.config.epochs : null;
      dispatch({ type: 'loaded', run: { ...blank(runId), status: run.status, reason: run.reason, epochs: planned, progress, records: epochs, bestEpoch: run.bestEpoch, notes, backend: run.backend, baseline: run.baseline } });
    },
    [client, project],
  );

  const [attached, setAttached] = useReducer((_: number | null, id: number | null) => id, null);
  useEffect(() => {
    let current = true;
    client
      .call('train.active', {})
      .then(async ({ runs: active }) => {
        const mine = active.filter((r) => r.project === project).sort((a, b) => b.runId - a.runId)[0];
        if (!mine || !current) return;
        await load(mine.runId, mine.progress);
        if (current) setAttached(mine.runId);
      })
      .catch((err) => reportError(err, 'Cannot read the runs in progress'));
    return () => {
      current = false;
    };
  }, [client, project, load, reportError]);

  const started = useCallback((info: TrainStarted) => dispatch({ type: 'started', started: info }), []);
  const statusChanged = useCallback((runId: number, status: RunStatus, reason: string | null) => dispatch({ type: 'status', runId, status, reason }), []);

  return { runs, attached, started, statusChanged, load };
}
