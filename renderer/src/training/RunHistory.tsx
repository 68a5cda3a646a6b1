/**
 * The project's training runs, newest first (runs.list): model, mode, backend, status and why it
 * ended, the best validation accuracy and loss, epochs. A completed run whose model is no better
 * than guessing carries a warning instead of a plain "completed". Clicking a run shows its curves
 * (runs.get) and lets it be deleted, files too, after a confirmation. The table follows the
 * train.* events, so a run in progress shows its finished epochs as they come.
 */
import { useCallback, useEffect, useState } from 'react';
import { useClient, useEvent, useReportError, errorMessage } from '../api/client-context';
import { isFinalRunStatus, type EpochRecord, type RunRecord } from '../../../main/contract/calls-data';
import { RunCharts } from './RunCharts';
import { requestEvaluation } from '../evaluation/open-evaluation';
import { formatDate, formatDuration, formatLoss, formatPercent, formatRate, variantLabel } from './train-format';

export interface RunDetails {
  run: RunRecord;
  epochs: EpochRecord[];
}

/** The epoch whose weights a run keeps (the best validation loss), else its last one. */
export function keptEpoch({ run, epochs }: RunDetails): EpochRecord | null {
  return epochs.find((e) => e.epoch === run.bestEpoch) ?? epochs.at(-1) ?? null;
}

/** Words from the engine ("validation accuracy … apart") as a sentence. */
export function sentence(words: string): string {
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}.`;
}

/** A completed run whose kept model does not beat chance or the majority class. */
export function isGuessing(run: RunRecord): boolean {
  return run.status === 'completed' && run.baseline !== null && !run.baseline.aboveBaseline;
}

export function RunHistory({ project, details: all, selectedId, onSelect }: { project: string; details: RunDetails[] | null; selectedId: number | null; onSelect: (id: number | null) => void }) {
  // deleted here: hidden at once, before the list is read again
  const [deleted, setDeleted] = useState<ReadonlySet<number>>(new Set());
  const details = all?.filter((d) => !deleted.has(d.run.id)) ?? null;
  const selected = details?.find((d) => d.run.id === selectedId) ?? null;
  const onDeleted = (id: number) => {
    setDeleted((ids) => new Set([...ids, id]));
    onSelect(null);
  };
  return (
    <section className="card run-history" data-testid="run-history">
      <h2>Run history</h2>
      {details === null ? (
        <p className="muted">
          <span className="spinner" /> Reading the runs…
        </p>
      ) : details.length === 0 ? (
        <p className="muted" data-testid="history-empty">
          No runs yet.
        </p>
      ) : (
        <div className="history-scroll">
          <table className="table history-table">
            <thead>
              <tr>
                <th className="num">#</th>
                <th>Started</th>
                <th>Model</th>
                <th>Mode</th>
                <th>Backend</th>
                <th>Status</th>
                <th className="num">Best val acc</th>
                <th className="num">Best val loss</th>
                <th className="num" title="finished epochs / planned">
                  Epochs
                </th>
              </tr>
            </thead>
            <tbody>
              {details.map((d) => {
                const { run } = d;
                const kept = keptEpoch(d);
                const planned = typeof run.config.epochs === 'number' ? run.config.epochs : null;
                return (
                  <tr
                    key={run.id}
                    className={run.id === selectedId ? 'selected' : ''}
                    onClick={() => onSelect(run.id === selectedId ? null : run.id)}
                    aria-selected={run.id === selectedId}
                    data-testid={`history-row-${run.id}`}
                    data-status={run.status}
                    data-baseline={run.baseline ? (run.baseline.aboveBaseline ? 'above' : 'not-above') : undefined}
                  >
                    <td className="num">{run.id}</td>
                    <td>{formatDate(run.createdAt)}</td>
                    <td>
                      {variantLabel(run.variant)} <span className="muted">{run.resolution} px</span>
                    </td>
                    <td>{String(run.config.mode ?? '—')}</td>
                    <td>
                      {run.backend ?? '—'}
                      {run.config.precision === 'mixed' && (
                        <span className="muted small" title="mixed precision: float16 activations on the Effitune engine" data-testid="run-precision">
                          {' '}
                          · mixed
                        </span>
                      )}
                    </td>
                    <td className="status-cell" title={[run.baseline?.warning, run.reason].filter(Boolean).join('\n') || undefined}>
                      {isGuessing(run) ? (
                        <span className="status-chip status-guessing" data-testid={`history-guessing-${run.id}`}>
                          completed · no better than guessing
                        </span>
                      ) : (
                        <span className={`status-chip status-${run.status}`}>{run.status}</span>
                      )}
                      {run.reason && <span className="muted small status-reason">{run.reason}</span>}
                    </td>
                    <td className="num" data-testid={`history-val-acc-${run.id}`}>
                      {formatPercent(kept?.valAcc)}
                    </td>
                    <td className="num">{formatLoss(run.bestValLoss)}</td>
                    <td className="num">
                      {run.epochCount}
                      {planned ? ` / ${planned}` : ''}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {selected && <RunCurves key={selected.run.id} project={project} details={selected} onDeleted={onDeleted} />}
    </section>
  );
}

function RunCurves({ project, details, onDeleted }: { project: string; details: RunDetails; onDeleted: (id: number) => void }) {
  const { run, epochs } = details;
  const kept = keptEpoch(details);
  const seconds = epochs.reduce((sum, e) => sum + e.seconds, 0);
  return (
    <div className="run-curves" data-testid="run-curves" data-run-id={run.id}>
      <h3>
        Run #{run.id}: {variantLabel(run.variant)} at {run.resolution} px, {String(run.config.mode)} mode{run.backend ? `, ${run.backend}` : ''}{run.config.precision === 'mixed' ? ', mixed precision' : ''}
      </h3>
      <div className="run-actions">
        {run.status === 'completed' && (
          <button className="button small" onClick={() => requestEvaluation(project, run.id)} data-testid="history-evaluate">
            Evaluate this run →
          </button>
        )}
        <DeleteRun project={project} run={run} onDeleted={onDeleted} />
      </div>
      {isGuessing(run) && (
        <p className="inline-warning small" data-testid="history-baseline">
          {sentence(run.baseline!.warning!)}
        </p>
      )}
      <p className="small">
        {epochs.length} epochs in {formatDuration(seconds)}
        {epochs.length ? `, ${formatRate(epochs.reduce((s, e) => s + e.imagesPerSecond, 0) / epochs.length)} images/s on average` : ''}
        {kept ? ` · kept epoch ${kept.epoch + 1}: val accuracy ${formatPercent(kept.valAcc)}, val loss ${formatLoss(kept.valLoss)}` : ''}
        {run.classes.length ? ` · classes: ${run.classes.join(', ')}` : ''}
      </p>
      <RunCharts records={epochs} plannedEpochs={typeof run.config.epochs === 'number' ? run.config.epochs : null} testId={`history-chart`} />
      {run.checkpointDir && (
        <p className="muted small mono wrap" title={project}>
          {run.checkpointDir}
        </p>
      )}
    </div>
  );
}

/** The Delete button of a run, and the confirmation that says what goes: the record, its evaluations and its folder. */
function DeleteRun({ project, run, onDeleted }: { project: string; run: RunRecord; onDeleted: (id: number) => void }) {
  const client = useClient();
  const [stage, setStage] = useState<'idle' | 'confirm' | 'deleting'>('idle');
  const [problem, setProblem] = useState<string | null>(null);
  const final = isFinalRunStatus(run.status);
  const remove = async () => {
    setStage('deleting');
    setProblem(null);
    try {
      await client.call('runs.delete', { project, id: run.id });
      onDeleted(run.id);
    } catch (err) {
      setProblem(errorMessage(err));
      setStage('confirm');
    }
  };
  if (stage === 'idle') {
    return (
      <button
        className="button small danger"
        onClick={() => setStage('confirm')}
        disabled={!final}
        title={final ? 'Delete this run and its files' : 'Cancel the run (or let it finish) before deleting it'}
        data-testid="history-delete"
      >
        Delete run…
      </button>
    );
  }
  return (
    <div className="confirm-box" data-testid="history-delete-confirm">
      <p>
        Delete run #{run.id} for good? Its record, epochs, evaluations and its folder of checkpoints and model are removed{run.checkpointDir ? ':' : '.'}
      </p>
      {run.checkpointDir && <p className="muted small mono wrap">{run.checkpointDir}</p>}
      <p className="muted small">Models exported elsewhere stay where they are.</p>
      {problem && (
        <p className="inline-error" data-testid="history-delete-error">
          Cannot delete run #{run.id}: {problem}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={() => setStage('idle')} disabled={stage === 'deleting'} data-testid="history-delete-cancel">
          Keep it
        </button>
        <button type="button" className="button danger" onClick={() => void remove()} disabled={stage === 'deleting'} data-testid="history-delete-confirm-button">
          {stage === 'deleting' ? 'Deleting…' : `Delete run #${run.id}`}
        </button>
      </div>
    </div>
  );
}

/**
 * runs.list plus each run's epochs (runs.get): the table needs the best epoch's validation accuracy.
 * A run's row is read again when it finishes an epoch or changes status (so a run in progress never
 * shows "0 / 20" while it is at epoch 2); a deleted run leaves the list.
 */
export function useRunHistory(project: string, refreshKey: number): RunDetails[] | null {
  const client = useClient();
  const reportError = useReportError();
  const [details, setDetails] = useState<RunDetails[] | null>(null);
  const reread = useCallback(
    (id: number) => {
      client.call('runs.get', { project, id }).then(
        (fresh) => setDetails((list) => (list && list.some((d) => d.run.id === id) ? list.map((d) => (d.run.id === id ? fresh : d)) : list)),
        // a run deleted meanwhile is not worth an error
        () => undefined,
      );
    },
    [client, project],
  );
  useEvent('train.epoch', (e) => e.project === project && reread(e.runId));
  useEvent('train.status', (e) => e.project === project && reread(e.runId));
  useEvent('runs.deleted', (e) => e.project === project && setDetails((list) => list?.filter((d) => d.run.id !== e.runId) ?? list));
  useEffect(() => {
    let current = true;
    (async () => {
      const { runs } = await client.call('runs.list', { project, limit: 50 });
      const all = await Promise.all(runs.map((r) => client.call('runs.get', { project, id: r.id })));
      if (current) setDetails(all);
    })().catch((err) => reportError(err, 'Cannot read the run history'));
    return () => {
      current = false;
    };
  }, [client, project, refreshKey, reportError]);
  return details;
}
