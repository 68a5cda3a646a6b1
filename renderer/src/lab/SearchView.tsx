/**
 * One search in the Lab: its status with Cancel and Resume, the plan it follows (the base network
 * and why, the rungs of successive halving, subsets, seeds), the scatter of accuracy against
 * FLOPs or measured time with the verdict and the noise in words beside it, and the live table of
 * candidates. Choosing a point or a row picks the candidate the family panel below keeps.
 */
import { useRef, useState } from 'react';
import { useClient, errorMessage } from '../api/client-context';
import type { SearchReport } from '../../../main/contract/calls-scaling';
import { formatPhi } from '../models/format';
import { SaveFigureButtons } from '../evaluation/SaveFigureButtons';
import { formatDate, formatDuration } from '../training/train-format';
import { CandidateTable } from './CandidateTable';
import { ScalingScatter } from './ScalingScatter';
import { formatPoints, STATUS_WORDS } from './lab-format';
import type { CostAxis } from './scatter-data';

export function SearchStatusCard({ project, report, onReport, onRefresh }: { project: string; report: SearchReport; onReport: (report: SearchReport) => void; onRefresh: () => void }) {
  const client = useClient();
  const [busy, setBusy] = useState<'cancel' | 'resume' | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [budget, setBudget] = useState('');
  const { plan } = report;
  const running = report.status === 'running';
  const canCancel = running && report.live;
  const canResume = !running && (report.status !== 'completed' || plan.budgetMinutes !== null);
  const budgetValue = budget.trim() === '' ? undefined : Number(budget);
  const budgetProblem = budgetValue !== undefined && !(budgetValue > 0) ? 'minutes above 0' : null;

  const act = async (kind: 'cancel' | 'resume') => {
    setBusy(kind);
    setProblem(null);
    try {
      onReport(
        kind === 'cancel'
          ? await client.call('scale.cancel', { project, searchId: report.id })
          : await client.call('scale.resume', { project, searchId: report.id, ...(budgetValue !== undefined ? { budgetMinutes: budgetValue } : {}) }),
      );
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const finished = report.candidates.filter((c) => c.state === 'finished').length;
  // the last rung is the end of training, not a halving
  const halving = plan.rungs.filter((epoch) => epoch < plan.epochs);
  const training = report.candidates.find((c) => c.state === 'training');
  return (
    <section className="card lab-status" data-testid="lab-status" data-status={report.status} data-search={report.id} data-live={report.live ? 'true' : 'false'}>
      <div className="panel-head">
        <div>
          <h2>
            Search #{report.id}{' '}
            <span className={`status-chip status-${report.status}`} data-testid="lab-status-word">
              {running && <span className="spinner" />}
              {STATUS_WORDS[report.status]}
            </span>
          </h2>
          <p className="muted small">
            Started {formatDate(report.createdAt)} · {formatDuration(report.elapsedSeconds)} trained{plan.budgetMinutes !== null ? ` of ${plan.budgetMinutes} min` : ''} · {finished} of {report.candidates.length} candidates finished
            {training ? ` · training #${training.position + 1}` : ''}
            {running && !report.live ? ' · driven by another Effitune process' : ''}
          </p>
        </div>
        <div className="lab-actions">
          <button className="button small" onClick={onRefresh} data-testid="lab-refresh" title="Read the search again">
            Refresh
          </button>
          <button className="button danger" onClick={() => void act('cancel')} disabled={!canCancel || busy !== null} data-testid="lab-cancel" title="Stop after the current step; finished candidates are kept">
            {busy === 'cancel' && <span className="spinner" />}
            Cancel
          </button>
          {canResume && plan.budgetMinutes !== null && (
            <input className="lab-budget-input" type="number" min={0} step={0.5} placeholder={`budget ${plan.budgetMinutes} min`} value={budget} onChange={(e) => setBudget(e.target.value)} aria-invalid={budgetProblem !== null} aria-label="New time budget in minutes" data-testid="lab-resume-budget" />
          )}
          <button className="button" onClick={() => void act('resume')} disabled={!canResume || busy !== null || budgetProblem !== null} data-testid="lab-resume" title="Continue: finished candidates are kept, a half-trained one goes on from its last epoch">
            {busy === 'resume' && <span className="spinner" />}
            Resume
          </button>
        </div>
      </div>
      {report.reason && (
        <p className="small" data-testid="lab-status-reason">
          {report.reason}
        </p>
      )}
      {problem && (
        <p className="inline-error small" data-testid="lab-action-error">
          {problem}
        </p>
      )}
      <dl className="lab-plan" data-testid="lab-plan">
        <div>
          <dt>Base network</dt>
          <dd data-testid="lab-plan-base">
            B0 at φ {formatPhi(plan.basePhi)} <span className="muted">— {plan.basePhiReason}</span>
          </dd>
        </div>
        <div>
          <dt>Step</dt>
          <dd>
            φ {formatPhi(plan.phi)} above the base, α·β²·γ² within {Math.round(plan.tolerance * 100)} % of {plan.target}, {plan.grid} grid{plan.maxCandidates !== null ? `, at most ${plan.maxCandidates} grid points` : ''}
          </dd>
        </div>
        <div>
          <dt>Training</dt>
          <dd data-testid="lab-plan-rungs">
            {plan.epochs} epoch{plan.epochs === 1 ? '' : 's'}; {halving.length === 0 ? 'no halving' : `the compound candidates halved after epoch${halving.length === 1 ? '' : 's'} ${halving.join(', ')}`}; batch {plan.batch}; {plan.backend ?? (plan.precision === 'mixed' ? 'webgpu' : 'the best backend here')}{plan.precision === 'mixed' ? '; mixed precision (float16 activations)' : ''}
          </dd>
        </div>
        <div>
          <dt>Data</dt>
          <dd>
            {plan.subset.train} training and {plan.subset.val} validation images (stratified, seed {plan.subset.seed}); seed {plan.seed}
            {plan.repeats > 0 ? `, the best ${plan.repeats} again with seed ${plan.repeatSeed}` : ', no repeats'}
          </dd>
        </div>
      </dl>
    </section>
  );
}

export function SearchResults({ report, selectedId, onSelect }: { report: SearchReport; selectedId: number | null; onSelect: (candidateId: number) => void }) {
  const [axis, setAxis] = useState<CostAxis>('flops');
  const chartRef = useRef<HTMLElement>(null);
  return (
    <section className="card lab-results" data-testid="lab-results">
      <div className="lab-results-grid">
        <figure className="lab-figure" ref={chartRef}>
          <figcaption className="chart-head">
            <span className="chart-title">Validation accuracy against {axis === 'flops' ? 'FLOPs' : 'measured time per image'}</span>
            <span className="segmented" role="radiogroup" aria-label="Cost axis">
              <button type="button" role="radio" aria-checked={axis === 'flops'} className={axis === 'flops' ? 'active' : ''} onClick={() => setAxis('flops')} data-testid="lab-axis-flops">
                FLOPs
              </button>
              <button type="button" role="radio" aria-checked={axis === 'time'} className={axis === 'time' ? 'active' : ''} onClick={() => setAxis('time')} data-testid="lab-axis-time">
                Time per image
              </button>
            </span>
            <SaveFigureButtons container={chartRef} name={`search ${report.id} accuracy against ${axis === 'flops' ? 'flops' : 'time'}`} testId="lab-save" />
          </figcaption>
          <ScalingScatter report={report} axis={axis} selectedId={selectedId} onSelect={onSelect} />
        </figure>
        <div className="lab-verdict" data-testid="lab-verdict">
          <h3>What the results say</h3>
          <ul>
            {report.verdict.map((line, i) => (
              <li key={i} data-testid="lab-verdict-line">
                {line}
              </li>
            ))}
          </ul>
          <p className="small" data-testid="lab-noise">
            {report.noise === null
              ? 'Noise: not known until a candidate has a validation accuracy.'
              : `Noise: two seeds of one candidate, or two draws of ${report.plan.subset.val} validation images, land up to ±${formatPoints(report.noise)} apart; a smaller difference is a tie, not a win.`}
          </p>
        </div>
      </div>
      <CandidateTable report={report} selectedId={selectedId} onSelect={onSelect} />
    </section>
  );
}
