/**
 * Setting up a compound-scaling search: a time and a FLOPs budget, the grid, how many images and
 * epochs each candidate gets, the repeats that measure the noise, the number of grid points and
 * the seed; under "More" the step φ the candidates are compared at, the base network, the
 * batch, the tolerance of the constraint, the training backend and the precision. Empty fields take the engine's defaults (the placeholders); errors come back in words.
 */
import { useState } from 'react';
import { useClient, errorMessage } from '../api/client-context';
import { mixedPrecisionProblem, useBackendProbe } from '../api/backend-probe';
import type { SearchReport } from '../../../main/contract/calls-scaling';
import { SearchGrid } from '../../../main/contract/calls-scaling';
import { BackendName } from '../../../main/contract/calls-backend';
import { FORM_DEFAULTS, fieldHint, toSearchOptions, type LabField, type LabForm, type LabProblems } from './lab-form';

const GRID_WORDS: Record<SearchGrid, string> = {
  coarse: 'Coarse: α 1.1 – 1.5 × β 1.0 – 1.2 in 3 × 3',
  fine: 'Fine: the same span in 5 × 5',
};

export function SearchSetup({ project, form, onFormChange, busy, onStarted }: { project: string; form: LabForm; onFormChange: (next: LabForm) => void; busy: boolean; onStarted: (report: SearchReport) => void }) {
  const client = useClient();
  const [problem, setProblem] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const { options, problems } = toSearchOptions(form);
  const blocked = Object.keys(problems).length > 0;
  // every candidate of a mixed search trains on the WebGPU engine in float16 activations: where that cannot run, say so before the start
  const mixedProblem = mixedPrecisionProblem(useBackendProbe().value);
  const set = (field: LabField, value: string) => onFormChange({ ...form, [field]: value });

  const start = async () => {
    setStarting(true);
    setProblem(null);
    try {
      onStarted(await client.call('scale.start', { project, ...options }));
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setStarting(false);
    }
  };

  const field = (name: LabField, label: string, hint: string, testId: string, step = 1) => (
    <NumberField name={name} label={label} hint={hint} value={form[name]} problems={problems} onChange={(v) => set(name, v)} testId={testId} step={step} />
  );

  return (
    <section className="card lab-setup" data-testid="lab-setup">
      <h2>New search</h2>
      <p className="muted small">
        Trains small networks one step of φ above a tiny base — every grid point under α·β²·γ² ≈ 2, the paper's coefficients, and depth, width or resolution alone — on the same subset, seed and split, and
        keeps what wins on these images. The test split is never touched.
      </p>
      <div className="field">
        <span>Grid</span>
        <div className="segmented" role="radiogroup" aria-label="Grid">
          {SearchGrid.options.map((grid) => (
            <button key={grid} type="button" role="radio" aria-checked={form.grid === grid} className={form.grid === grid ? 'active' : ''} onClick={() => onFormChange({ ...form, grid })} data-testid={`lab-grid-${grid}`} title={GRID_WORDS[grid]}>
              {grid}
            </button>
          ))}
        </div>
        <span className="muted small">{GRID_WORDS[form.grid]}</span>
      </div>
      <div className="setup-grid">
        {field('budgetMinutes', 'Time budget (min)', fieldHint('budgetMinutes'), 'lab-budget-minutes', 0.5)}
        {field('budgetMegaFlops', 'FLOPs budget (M)', 'M multiply-adds per image the largest candidate may have; chooses the base network', 'lab-budget-flops', 0.1)}
        {field('subset', 'Train images', fieldHint('subset'), 'lab-subset')}
        {field('epochs', 'Epochs', fieldHint('epochs'), 'lab-epochs')}
        {field('repeats', 'Repeats', fieldHint('repeats'), 'lab-repeats')}
        {field('maxCandidates', 'Max grid points', fieldHint('maxCandidates'), 'lab-max-candidates')}
        {field('seed', 'Seed', fieldHint('seed'), 'lab-seed')}
      </div>
      <details className="lab-more">
        <summary data-testid="lab-more">More: step φ, base network, validation images, batch, tolerance, backend, precision</summary>
        <div className="setup-grid">
          {field('phi', 'Step φ', fieldHint('phi'), 'lab-phi', 0.25)}
          {field('basePhi', 'Base φ', fieldHint('basePhi'), 'lab-base-phi', 0.5)}
          {field('valSubset', 'Validation images', fieldHint('valSubset'), 'lab-val-subset')}
          {field('batch', 'Batch', fieldHint('batch'), 'lab-batch')}
          {field('tolerance', 'Tolerance of α·β²·γ²', fieldHint('tolerance'), 'lab-tolerance', 0.01)}
          <label className="field" title={fieldHint('backend')}>
            <span>Backend</span>
            <select value={form.backend} onChange={(e) => onFormChange({ ...form, backend: e.target.value as LabForm['backend'] })} data-testid="lab-backend">
              <option value="">best here</option>
              {BackendName.options.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label className="field" title={fieldHint('precision')}>
            <span>Precision</span>
            <select value={form.precision} onChange={(e) => onFormChange({ ...form, precision: e.target.value as LabForm['precision'] })} data-testid="lab-precision">
              <option value="fp32">fp32</option>
              <option value="mixed" disabled={mixedProblem !== null && form.precision !== 'mixed'}>
                mixed (float16){mixedProblem ? ` · ${mixedProblem.short}` : ''}
              </option>
            </select>
          </label>
        </div>
      </details>
      {form.precision === 'mixed' && mixedProblem && (
        <p className="inline-warning small" data-testid="lab-precision-problem">
          Precision mixed trains every candidate on the Effitune WebGPU engine in float16 activations, and {mixedProblem.why}: the search would be refused. Choose fp32 under More.
        </p>
      )}
      <div className="setup-actions">
        <button className="button primary" onClick={() => void start()} disabled={busy || starting || blocked} data-testid="lab-start" title={busy ? 'a search is running in this project: cancel it or wait for it' : undefined}>
          {starting ? <span className="spinner" /> : null}
          Start search
        </button>
        {busy && <span className="muted small">A search is running: one at a time.</span>}
      </div>
      {problem && (
        <p className="inline-error small" data-testid="lab-start-error">
          {problem}
        </p>
      )}
    </section>
  );
}

function NumberField({ name, label, hint, value, problems, onChange, testId, step }: { name: LabField; label: string; hint: string; value: string; problems: LabProblems; onChange: (v: string) => void; testId: string; step: number }) {
  const problem = problems[name];
  return (
    <label className="field" title={hint}>
      <span>{label}</span>
      <input type="number" step={step} value={value} placeholder={FORM_DEFAULTS[name]} onChange={(e) => onChange(e.target.value)} aria-invalid={Boolean(problem)} data-testid={testId} />
      {problem && <span className="field-problem small">{problem}</span>}
    </label>
  );
}
