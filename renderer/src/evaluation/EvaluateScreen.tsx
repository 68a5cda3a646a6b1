/**
 * The Evaluate tab: the project's finished runs on the left, the best by validation chosen and
 * marked until the user picks another; for the chosen run and split, the
 * overall metrics, the confusion matrix (click a cell for its images), the per-class table, the
 * most confident mistakes and "try an image" — or a comparison with another run. Export opens
 * the export dialog for the chosen run.
 */
import { useEffect, useMemo, useState } from 'react';
import type { RunRecord } from '../../../main/contract/calls-data';
import type { EvalSplit } from '../../../main/contract/calls-eval';
import { formatLoss, formatPercent } from '../training/train-format';
import { runLabel } from './eval-format';
import { bestRun, runValidationSummary } from './best-run';
import { EvaluationView } from './EvaluationView';
import { ExportDialog } from './ExportDialog';
import { RunComparison } from './RunComparison';
import { takeRequestedRun, useEvaluationRequests } from './open-evaluation';
import { useFinishedRuns } from './use-finished-runs';

type View = 'evaluation' | 'compare';

export function EvaluateScreen({ project }: { project: string }) {
  const { runs, problem, reload } = useFinishedRuns(project);
  const [runId, setRunId] = useState<number | null>(() => takeRequestedRun(project));
  const [split, setSplit] = useState<EvalSplit>('test');
  const [view, setView] = useState<View>('evaluation');
  const [exporting, setExporting] = useState(false);

  useEvaluationRequests(project, (id) => {
    takeRequestedRun(project);
    setRunId(id);
    setView('evaluation');
  });
  const best = useMemo(() => (runs ? bestRun(runs) : null), [runs]);
  // The best run by validation (else the newest) until the user picks one, or when the picked one is gone.
  useEffect(() => {
    if (runs && runs.length > 0 && (runId === null || !runs.some((r) => r.id === runId))) setRunId((best ?? runs[0]).id);
  }, [runs, runId, best]);
  const run = useMemo(() => runs?.find((r) => r.id === runId) ?? null, [runs, runId]);

  if (problem)
    return (
      <main className="eval-main">
        <div className="eval-message card">
          <p className="inline-error" data-testid="eval-runs-error">
            {problem}
          </p>
          <button className="button" onClick={reload}>
            Try again
          </button>
        </div>
      </main>
    );
  if (runs === null)
    return (
      <main className="eval-main">
        <p className="muted eval-message" data-testid="eval-loading">
          <span className="spinner" /> Reading the finished runs…
        </p>
      </main>
    );
  if (runs.length === 0)
    return (
      <main className="eval-main">
        <section className="card eval-message" data-testid="eval-empty">
          <h2>No finished run to evaluate yet</h2>
          <p>
            Evaluation reads a trained model. In the <strong>Train</strong> tab, split the data (so there are validation and test images), pick a model and start a run. When a run completes, it appears here
            with its confusion matrix, per-class metrics and mistakes, and you can export it.
          </p>
        </section>
      </main>
    );

  return (
    <main className="eval-main">
      <div className="eval-screen" data-testid="eval-screen">
        <aside className="card eval-runs" data-testid="eval-runs">
          <h2>Finished runs</h2>
          <ul className="eval-run-list">
            {runs.map((r) => (
              <RunItem key={r.id} run={r} selected={r.id === runId} best={r.id === best?.id} onPick={() => setRunId(r.id)} />
            ))}
          </ul>
        </aside>
        <div className="eval-content">
          {run && (
            <>
              <div className="card eval-toolbar">
                <h2 className="eval-title" data-testid="eval-title">
                  Run {runLabel(run)}
                </h2>
                <span className="segmented" role="tablist" aria-label="Split">
                  {(['val', 'test'] as const).map((s) => (
                    <button key={s} role="tab" aria-selected={split === s} className={split === s ? 'active' : ''} onClick={() => setSplit(s)} data-testid={`eval-split-${s}`}>
                      {s === 'val' ? 'Validation' : 'Test'}
                    </button>
                  ))}
                </span>
                <span className="segmented" role="tablist" aria-label="View">
                  <button role="tab" aria-selected={view === 'evaluation'} className={view === 'evaluation' ? 'active' : ''} onClick={() => setView('evaluation')} data-testid="eval-view-evaluation">
                    Evaluation
                  </button>
                  <button role="tab" aria-selected={view === 'compare'} className={view === 'compare' ? 'active' : ''} onClick={() => setView('compare')} data-testid="eval-view-compare">
                    Compare runs
                  </button>
                </span>
                <button className="button primary eval-export" onClick={() => setExporting(true)} data-testid="eval-export-open">
                  Export…
                </button>
                <RunChoiceNote run={run} best={best} onPickBest={() => best && setRunId(best.id)} />
              </div>
              {view === 'evaluation' ? <EvaluationView key={`${run.id}-${split}`} project={project} run={run} split={split} /> : <RunComparison project={project} runs={runs} runA={run.id} split={split} />}
            </>
          )}
        </div>
      </div>
      {exporting && run && <ExportDialog project={project} run={run} onClose={() => setExporting(false)} />}
    </main>
  );
}

/** Says whether the run shown is the best by validation, and offers the best one when it is not. */
function RunChoiceNote({ run, best, onPickBest }: { run: RunRecord; best: RunRecord | null; onPickBest: () => void }) {
  if (!best)
    return (
      <p className="muted small eval-run-choice" data-testid="eval-run-choice">
        No run has a validation loss to rank by, so the newest is shown first.
      </p>
    );
  if (best.id === run.id)
    return (
      <p className="muted small eval-run-choice" data-testid="eval-run-choice" data-best-run={best.id}>
        <span className="best-badge">best run</span> ({runValidationSummary(best)}): the lowest validation loss of the finished runs. Pick another on the left.
      </p>
    );
  return (
    <p className="muted small eval-run-choice" data-testid="eval-run-choice" data-best-run={best.id}>
      Not the best run: that is {runValidationSummary(best)}.{' '}
      <button className="button small" onClick={onPickBest} data-testid="eval-run-pick-best">
        Show run #{best.id}
      </button>
    </p>
  );
}

function RunItem({ run, selected, best: isBest, onPick }: { run: RunRecord; selected: boolean; best: boolean; onPick: () => void }) {
  const best = run.lastEpoch;
  return (
    <li>
      <button className={`eval-run${selected ? ' selected' : ''}`} aria-pressed={selected} onClick={onPick} data-testid={`eval-run-${run.id}`} data-best={isBest}>
        <span className="eval-run-name">
          {runLabel(run)}
          {isBest && (
            <span className="best-badge" title="the lowest validation loss of the finished runs" data-testid="eval-run-best">
              best
            </span>
          )}
        </span>
        <span className="muted small">
          {String(run.config.mode ?? '')} · {run.classes.length} classes · {run.epochCount} epochs
        </span>
        <span className="muted small">
          best val loss {formatLoss(run.bestValLoss)}
          {best ? ` · last val acc ${formatPercent(best.valAcc)}` : ''}
        </span>
      </button>
    </li>
  );
}
