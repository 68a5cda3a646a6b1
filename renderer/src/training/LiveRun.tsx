/**
 * The run in progress (or the last one this screen followed): progress bar over epochs and steps,
 * images/s, ETA, the last batch's loss and accuracy, live per-epoch charts, the trainer's notes
 * (halved batch, skipped images, ...), and pause / resume / cancel wired to the train.* calls.
 * A pause asked for shows as "Pausing…" until the trainer reaches the end of its step; a run that
 * completed with a model no better than guessing says so instead of a plain "Completed".
 */
import { useState } from 'react';
import { useClient, useReportError } from '../api/client-context';
import type { TrainStarted } from '../../../main/contract/calls-train';
import type { LiveRun } from './use-live-runs';
import { RunCharts } from './RunCharts';
import { sentence } from './RunHistory';
import { formatDuration, formatLoss, formatPercent, formatRate } from './train-format';

const PHASE_WORDS = { starting: 'Starting', embedding: 'Computing backbone features', training: 'Training', validating: 'Validating', checkpointing: 'Saving checkpoint' } as const;
const STATUS_WORDS = { queued: 'Queued', running: 'Running', paused: 'Paused', completed: 'Completed', failed: 'Failed', cancelled: 'Cancelled' } as const;
/** What the run is doing while a steering call waits for the trainer (it acts after its current step). */
const PENDING_WORDS = { pause: 'Pausing…', resume: 'Resuming…', cancel: 'Cancelling…' } as const;

interface LiveRunProps {
  project: string;
  run: LiveRun;
  onStatus: (runId: number, status: LiveRun['status'], reason: string | null) => void;
  onResumed: (info: TrainStarted) => void;
}

export function LiveRunView({ project, run, onStatus, onResumed }: LiveRunProps) {
  const client = useClient();
  const reportError = useReportError();
  const [pending, setPending] = useState<keyof typeof PENDING_WORDS | null>(null);
  const { progress, records, status } = run;
  const active = status === 'running' || status === 'queued';
  const planned = run.epochs ?? progress?.epochs ?? null;

  const steer = async (action: 'pause' | 'resume' | 'cancel') => {
    setPending(action);
    try {
      if (action === 'resume') {
        const info = await client.call('train.resume', { project, runId: run.runId });
        onResumed(info);
      } else {
        const { run: record } = await client.call(action === 'pause' ? 'train.pause' : 'train.cancel', { project, runId: run.runId });
        onStatus(run.runId, record.status, record.reason);
      }
    } catch (err) {
      reportError(err, `Cannot ${action} run #${run.runId}`);
    } finally {
      setPending(null);
    }
  };

  const fraction = overallFraction(run);
  const last = records.at(-1) ?? null;
  const best = records.find((r) => r.epoch === run.bestEpoch) ?? null;
  const phase = pending ? PENDING_WORDS[pending] : progress && active ? PHASE_WORDS[progress.phase] : STATUS_WORDS[status];
  const guessing = status === 'completed' && run.baseline !== null && !run.baseline.aboveBaseline;

  return (
    <section className="card live-run" data-testid="live-run" data-run-id={run.runId} data-status={status}>
      <div className="panel-head">
        <h2>
          Run #{run.runId}{' '}
          {pending ? (
            <span className="status-chip status-pending" data-testid="live-status" data-pending={pending}>
              {PENDING_WORDS[pending]}
            </span>
          ) : guessing ? (
            <span className="status-chip status-guessing" data-testid="live-status" data-baseline="not-above" title={run.baseline!.warning ?? undefined}>
              Completed · no better than guessing
            </span>
          ) : (
            <span className={`status-chip status-${status}`} data-testid="live-status">
              {STATUS_WORDS[status]}
            </span>
          )}
        </h2>
        <div className="run-controls">
          {active && (
            <button className="button small" onClick={() => steer('pause')} disabled={pending !== null} data-testid="train-pause" title="Pause after the current step; the model stays in memory">
              {pending === 'pause' ? 'Pausing…' : 'Pause'}
            </button>
          )}
          {(status === 'paused' || status === 'cancelled' || status === 'failed') && (
            <button className="button small primary" onClick={() => steer('resume')} disabled={pending !== null} data-testid="train-resume" title={status === 'paused' ? 'Go on from the current step' : 'Continue from the last finished epoch, same configuration'}>
              {status === 'paused' ? 'Resume' : 'Continue'}
            </button>
          )}
          {(active || status === 'paused') && (
            <button className="button small danger" onClick={() => steer('cancel')} disabled={pending !== null} data-testid="train-cancel" title="Stop after the current step; the last finished epoch's checkpoint is kept">
              Cancel
            </button>
          )}
        </div>
      </div>
      {!run.started && run.backend && (
        <p className="muted small" data-testid="live-backend">
          {run.backend}
          {progress ? ` · batch ${progress.batch}` : ''}
        </p>
      )}
      {run.started && (
        <p className="muted small" data-testid="live-backend">
          {run.started.backend} on {run.started.device} · batch {progress?.batch ?? run.started.batch}
          {run.started.fromScratch ? ' · from scratch (no pretrained weights)' : ''}
          {run.started.resumedFromEpoch !== null ? ` · resumed after epoch ${run.started.resumedFromEpoch + 1}` : ''}
        </p>
      )}
      <div className="progress-line small">
        <span data-testid="live-phase">
          {phase}
          {progress && planned ? ` · epoch ${Math.min(progress.epoch + 1, planned)} of ${planned}` : ''}
          {progress && active && progress.batchesPerEpoch > 0 ? ` · ${progress.phase === 'embedding' ? 'image' : 'step'} ${progress.batchIndex} of ${progress.batchesPerEpoch}` : ''}
        </span>
        <span>{fraction === null ? '' : `${Math.round(fraction * 100)} %`}</span>
      </div>
      <div className={`progress-bar ${active && fraction === null ? 'indeterminate' : ''}`} data-testid="live-progress" aria-valuenow={fraction === null ? undefined : Math.round(fraction * 100)} role="progressbar">
        <div className="progress-fill" style={{ width: fraction === null ? undefined : `${fraction * 100}%` }} />
      </div>
      <div className="stat-row">
        <Stat label="images/s" value={formatRate(active && progress?.imagesPerSecond ? progress.imagesPerSecond : last?.imagesPerSecond)} testId="live-rate" />
        <Stat label="time left" value={active ? formatDuration(progress?.etaSeconds) : '—'} testId="live-eta" />
        <Stat label="elapsed" value={formatDuration(progress?.elapsedSeconds)} />
        {/* the last batch while steps run; between epochs and after the run, the last epoch's training figures */}
        {active && progress?.loss !== null && progress?.loss !== undefined ? (
          <>
            <Stat label="batch loss" value={formatLoss(progress.loss)} testId="live-loss" />
            <Stat label="batch accuracy" value={formatPercent(progress.accuracy)} />
          </>
        ) : (
          <>
            <Stat label={last ? `train loss, epoch ${last.epoch + 1}` : 'batch loss'} value={formatLoss(last?.trainLoss)} testId="live-loss" />
            <Stat label={last ? `train accuracy, epoch ${last.epoch + 1}` : 'batch accuracy'} value={formatPercent(last?.trainAcc)} />
          </>
        )}
        <Stat label="val accuracy (best)" value={formatPercent(best?.valAcc ?? last?.valAcc)} testId="live-val-acc" />
        <Stat label="val loss (best)" value={formatLoss(best?.valLoss ?? last?.valLoss)} />
      </div>
      {guessing && (
        <p className="inline-warning" data-testid="live-baseline">
          {sentence(run.baseline!.warning!)} Train with pretrained weights, longer or with a higher learning rate, or check the labels.
        </p>
      )}
      {run.reason && !active && (
        <p className={status === 'failed' ? 'inline-error' : 'muted'} data-testid="live-reason">
          {run.reason}
        </p>
      )}
      <RunCharts records={records} plannedEpochs={planned} testId="live-chart" />
      <Notes run={run} />
    </section>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="stat">
      <span className="stat-value" data-testid={testId}>
        {value}
      </span>
      <span className="stat-label">{label}</span>
    </div>
  );
}

function Notes({ run }: { run: LiveRun }) {
  const warnings = run.started?.warnings ?? [];
  // The trainer sends most of what it decided as note events too; a resume's words come only in its answer.
  const told = new Set(run.notes.map((n) => n.message));
  const decisions = (run.started?.notes ?? []).filter((n) => !told.has(n));
  if (run.notes.length === 0 && warnings.length === 0 && decisions.length === 0) return null;
  return (
    <ul className="note-list small" data-testid="live-notes">
      {decisions.map((n) => (
        <li key={n}>{n}</li>
      ))}
      {warnings.map((w) => (
        <li key={w} className="note-warning">
          {w}
        </li>
      ))}
      {run.notes.map((n, i) => (
        <li key={`${n.at}-${i}`} className={`note-${n.kind}`}>
          <span className="note-time muted">{new Date(n.at).toLocaleTimeString()}</span> {n.message}
        </li>
      ))}
    </ul>
  );
}

/** Share of the whole run done: finished epochs plus the part of the current one; null while unknown. */
function overallFraction(run: LiveRun): number | null {
  if (run.status === 'completed') return 1;
  const p = run.progress;
  if (!p || p.epochs <= 0) return run.records.length && run.epochs ? run.records.length / run.epochs : null;
  // before the first step (or while head mode computes features) the share of the run is unknown
  if (p.phase === 'starting' || p.phase === 'embedding') return null;
  const within = p.phase === 'training' && p.batchesPerEpoch > 0 ? p.batchIndex / p.batchesPerEpoch : p.phase === 'training' ? 0 : 1;
  return Math.min(1, (p.epoch + within) / p.epochs);
}
