/**
 * The project's training runs, newest first (runs.list): model, mode, backend, status and why it
 * ended, the best validation accuracy and loss, epochs. Clicking a run shows its curves (runs.get).
 */
import { useEffect, useState } from 'react';
import { useClient, useReportError } from '../api/client-context';
import type { EpochRecord, RunRecord } from '../../../main/contract/calls-data';
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

export function RunHistory({ project, details, selectedId, onSelect }: { project: string; details: RunDetails[] | null; selectedId: number | null; onSelect: (id: number | null) => void }) {
  const selected = details?.find((d) => d.run.id === selectedId) ?? null;
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
                <th className="num">Epochs</th>
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
                  >
                    <td className="num">{run.id}</td>
                    <td>{formatDate(run.createdAt)}</td>
                    <td>
                      {variantLabel(run.variant)} <span className="muted">{run.resolution} px</span>
                    </td>
                    <td>{String(run.config.mode ?? '—')}</td>
                    <td>{run.backend ?? '—'}</td>
                    <td className="status-cell" title={run.reason ?? undefined}>
                      <span className={`status-chip status-${run.status}`}>{run.status}</span>
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
      {selected && <RunCurves project={project} details={selected} />}
    </section>
  );
}

function RunCurves({ project, details }: { project: string; details: RunDetails }) {
  const { run, epochs } = details;
  const kept = keptEpoch(details);
  const seconds = epochs.reduce((sum, e) => sum + e.seconds, 0);
  return (
    <div className="run-curves" data-testid="run-curves" data-run-id={run.id}>
      <h3>
        Run #{run.id}: {variantLabel(run.variant)} at {run.resolution} px, {String(run.config.mode)} mode{run.backend ? `, ${run.backend}` : ''}
      </h3>
      {run.status === 'completed' && (
        <button className="button small" onClick={() => requestEvaluation(project, run.id)} data-testid="history-evaluate">
          Evaluate this run →
        </button>
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

/** runs.list plus each run's epochs (runs.get): the table needs the best epoch's validation accuracy. */
export function useRunHistory(project: string, refreshKey: number): RunDetails[] | null {
  const client = useClient();
  const reportError = useReportError();
  const [details, setDetails] = useState<RunDetails[] | null>(null);
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
