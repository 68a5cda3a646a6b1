/**
 * The train / validation / test split as training will use it: counts per class and split, a
 * warning when the project has no split yet or has images without one, the engine's warnings for
 * classes too small to train on, whether the test split is locked, the validation and test
 * fractions (stratified per class; the test split stays fixed across re-splits unless asked) and
 * a button to split. The Train tab shows it as a card, the Data tab as a dialog (SplitDialog).
 */
import { useEffect, useRef, useState } from 'react';
import { useClient, useReportError } from '../api/client-context';
import type { SplitSummary } from '../../../main/contract/calls-data';

export const SPLIT_FRACTIONS = { val: 0.15, test: 0.15 } as const;

/** What the two percentage fields mean, or why they cannot be used, in words. */
export type FractionsReading = { ok: true; val: number; test: number } | { ok: false; problem: string };

/** The validation and test percentages as typed: each 0 ≤ x < 100, together below 100 (each class keeps images to train on). */
export function readSplitFractions(valText: string, testText: string): FractionsReading {
  const val = readPercent('Validation', valText);
  if (typeof val === 'string') return { ok: false, problem: val };
  const test = readPercent('Test', testText);
  if (typeof test === 'string') return { ok: false, problem: test };
  if (val + test >= 100) return { ok: false, problem: `Validation + test is ${formatPercent(val + test)} %: it must stay below 100 % so that each class keeps images to train on` };
  // Fractions in hundredths of a percent at most, so 15 % is exactly 0.15 and matches the last split's.
  return { ok: true, val: Math.round(val * 100) / 10_000, test: Math.round(test * 100) / 10_000 };
}

function readPercent(name: string, text: string): number | string {
  if (text.trim() === '') return `${name}: enter a percentage (0 for none)`;
  const value = Number(text);
  if (!Number.isFinite(value)) return `${name}: "${text}" is not a number`;
  if (value < 0) return `${name} must be at least 0 %`;
  if (value >= 100) return `${name} must be below 100 %`;
  return value;
}

function formatPercent(value: number): string {
  return String(Math.round(value * 100) / 100);
}

const percentText = (fraction: number) => formatPercent(fraction * 100);

/** The fields show hundredths of a percent: a fraction typed elsewhere (the CLI) with more digits is not a change. */
const differs = (a: number, b: number) => Math.abs(a - b) > 5e-5;

export function SplitPanel({ project, summary, onSplit, onClose }: { project: string; summary: SplitSummary | null; onSplit: (summary: SplitSummary) => void; onClose?: () => void }) {
  const client = useClient();
  const reportError = useReportError();
  const [busy, setBusy] = useState(false);
  const [notes, setNotes] = useState<string[]>([]);
  const params = summary?.params ?? null;
  const [valText, setValText] = useState(percentText(params?.val ?? SPLIT_FRACTIONS.val));
  const [testText, setTestText] = useState(percentText(params?.test ?? SPLIT_FRACTIONS.test));
  const [resetTest, setResetTest] = useState(false);
  // The fields follow each split that ran (here, in the other tab or from the CLI), not every refresh.
  useEffect(() => {
    if (!params) return;
    setValText(percentText(params.val));
    setTestText(percentText(params.test));
    setResetTest(false);
  }, [params?.splitAt]); // eslint-disable-line react-hooks/exhaustive-deps

  const heading = (
    <div className="panel-head">
      <h2>Split</h2>
      {onClose && (
        <button className="icon-button" onClick={onClose} aria-label="Close" data-testid="split-dialog-close">
          ×
        </button>
      )}
    </div>
  );
  if (!summary) {
    return (
      <section className="card split-card">
        {heading}
        <p className="muted">
          <span className="spinner" /> Reading the split…
        </p>
      </section>
    );
  }

  const { totals } = summary;
  const reading = readSplitFractions(valText, testText);
  const needsSplit = totals.images > 0 && (params === null || totals.unsplit > 0);
  const changed = reading.ok && params !== null && (differs(reading.val, params.val) || differs(reading.test, params.test));
  const testChanged = reading.ok && params !== null && differs(reading.test, params.test);
  const canResetTest = params !== null && !summary.locked;
  const fractions = reading.ok ? `${formatPercent(100 - (reading.val + reading.test) * 100)} / ${percentText(reading.val)} / ${percentText(reading.test)}` : null;
  // The paragraph above already says that images have no split; the engine's sentence for the
  // whole project would say it a second time. Its warnings about single classes stay.
  const warnings = needsSplit ? summary.warnings.filter((w) => w.startsWith('class "')) : summary.warnings;

  const split = async () => {
    if (!reading.ok) return;
    setBusy(true);
    try {
      // Unchanged fields send nothing: the engine then keeps the last split's exact fractions (and its train / validation).
      const fractions = params === null || changed ? { val: reading.val, test: reading.test } : {};
      const result = await client.call('split.run', { project, ...fractions, resetTest: resetTest && testChanged && canResetTest });
      setNotes(result.notes);
      onSplit(result);
    } catch (err) {
      reportError(err, 'Cannot split the project');
    } finally {
      setBusy(false);
    }
  };

  const buttonText = params === null ? `Split ${fractions ?? ''}` : changed ? `Split again ${fractions}` : 'Split new images';
  return (
    <section className="card split-card" data-testid="split-panel">
      {heading}
      {totals.images === 0 ? (
        <p className="inline-warning" data-testid="split-warning">
          No labeled images yet: import a folder whose sub-folders are the classes.
        </p>
      ) : params === null ? (
        <p className="split-warning" data-testid="split-warning">
          This project has no train / validation / test split yet, so training cannot start. Split it ({fractions ?? '70 / 15 / 15'} % per class), then train.
        </p>
      ) : totals.unsplit > 0 ? (
        <p className="split-warning" data-testid="split-warning">
          {totals.unsplit} labeled images have no split yet; they are left out of training until you split again.
        </p>
      ) : (
        <p className="muted small" data-testid="split-current">
          Validation {percentText(params.val)} %, test {percentText(params.test)} % of each class, seed {params.seed}
          {params.testLocked ? '; the test split stays fixed across re-splits' : ''}.
        </p>
      )}
      <div className="split-form">
        <label className="field split-fraction">
          <span>Validation %</span>
          <input type="number" min={0} max={99} step={1} value={valText} onChange={(e) => setValText(e.target.value)} aria-invalid={!reading.ok} data-testid="split-val" />
        </label>
        <label className="field split-fraction">
          <span>Test %</span>
          <input type="number" min={0} max={99} step={1} value={testText} onChange={(e) => setTestText(e.target.value)} aria-invalid={!reading.ok} data-testid="split-test" />
        </label>
        <span className="split-train muted small" data-testid="split-train-share">
          {reading.ok ? `train ${formatPercent(100 - (reading.val + reading.test) * 100)} %` : ''}
        </span>
        <button
          className={`button small ${needsSplit || changed ? 'primary' : ''}`}
          onClick={split}
          disabled={busy || totals.images === 0 || !reading.ok}
          data-testid="split-run"
          title="Stratified per class; the test split stays fixed across re-splits"
        >
          {busy ? <span className="spinner" /> : null}
          {buttonText}
        </button>
      </div>
      {!reading.ok && (
        <p className="field-problem small" data-testid="split-fraction-problem">
          {reading.problem}
        </p>
      )}
      {testChanged && (
        <div className="small split-test-change" data-testid="split-test-change">
          {summary.locked ? (
            <p className="muted">The test split is locked: a new test share applies only after you unlock it and deal the test split again.</p>
          ) : canResetTest ? (
            <label className="checkbox">
              <input type="checkbox" checked={resetTest} onChange={(e) => setResetTest(e.target.checked)} data-testid="split-reset-test" />
              Deal the test split again at {percentText(reading.ok ? reading.test : 0)} %{params?.testDealtAt ? ' (runs evaluated on the old test images are then no longer comparable)' : ''}
            </label>
          ) : null}
          {!summary.locked && canResetTest && !resetTest && <p className="muted">Without it the images already in test stay there and only new images are dealt at the new share.</p>}
        </div>
      )}
      {summary.locked && (
        <p className="muted small" data-testid="split-locked">
          🔒 The test split is locked (Data tab): re-splitting leaves it as it is.
        </p>
      )}
      {warnings.length > 0 && (
        <ul className="class-warnings small" data-testid="split-class-warnings">
          {warnings.map((w) => (
            <li key={w}>⚠ {w}</li>
          ))}
        </ul>
      )}
      {summary.classes.length > 0 && (
        <table className="table split-table" data-testid="split-table">
          <thead>
            <tr>
              <th>Class</th>
              <th className="num">Train</th>
              <th className="num">Val</th>
              <th className="num">Test</th>
              {totals.unsplit > 0 && <th className="num">No split</th>}
            </tr>
          </thead>
          <tbody>
            {summary.classes.map((c) => (
              <tr key={c.id} data-testid={`split-row-${c.name}`}>
                <td>{c.name}</td>
                <td className="num" data-testid={`split-train-${c.name}`}>{c.train}</td>
                <td className="num">{c.val}</td>
                <td className="num">{c.test}</td>
                {totals.unsplit > 0 && <td className="num">{c.unsplit}</td>}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td>{summary.unlabeled > 0 ? `all (${summary.unlabeled} unlabeled not split)` : 'all'}</td>
              <td className="num" data-testid="split-total-train">{totals.train}</td>
              <td className="num" data-testid="split-total-val">{totals.val}</td>
              <td className="num" data-testid="split-total-test">{totals.test}</td>
              {totals.unsplit > 0 && <td className="num">{totals.unsplit}</td>}
            </tr>
          </tfoot>
        </table>
      )}
      {notes.length > 0 && (
        <ul className="note-list small muted">
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * The same panel over the Data tab, so a split does not need a trip to the Train tab. Esc closes
 * it, heard on the window: after the split button is pressed (disabled while it works) the focus
 * is no longer in the dialog.
 */
export function SplitDialog({ project, summary, onSplit, onClose }: { project: string; summary: SplitSummary | null; onSplit: (summary: SplitSummary) => void; onClose: () => void }) {
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => dialog.current?.focus(), []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && !e.defaultPrevented && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div
        ref={dialog}
        className="dialog split-dialog"
        role="dialog"
        aria-label="Split"
        tabIndex={-1}
        data-testid="split-dialog"
        onClick={(e) => e.stopPropagation()}
      >
        <SplitPanel project={project} summary={summary} onSplit={onSplit} onClose={onClose} />
      </div>
    </div>
  );
}
