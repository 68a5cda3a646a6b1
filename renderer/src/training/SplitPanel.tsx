/**
 * The train / validation / test split as training will use it: counts per class and split, a
 * warning when the project has no split yet or has images without one, the engine's warnings for
 * classes too small to train on, whether the test split is locked, and a button to split
 * (stratified per class, 15 % validation and 15 % test; the test split stays fixed afterwards).
 */
import { useState } from 'react';
import { useClient, useReportError } from '../api/client-context';
import type { SplitSummary } from '../../../main/contract/calls-data';

export const SPLIT_FRACTIONS = { val: 0.15, test: 0.15 } as const;

export function SplitPanel({ project, summary, onSplit }: { project: string; summary: SplitSummary | null; onSplit: (summary: SplitSummary) => void }) {
  const client = useClient();
  const reportError = useReportError();
  const [busy, setBusy] = useState(false);
  const [notes, setNotes] = useState<string[]>([]);

  const split = async () => {
    setBusy(true);
    try {
      const result = await client.call('split.run', { project, ...SPLIT_FRACTIONS });
      setNotes(result.notes);
      onSplit(result);
    } catch (err) {
      reportError(err, 'Cannot split the project');
    } finally {
      setBusy(false);
    }
  };

  if (!summary) {
    return (
      <section className="card split-card">
        <h2>Split</h2>
        <p className="muted">
          <span className="spinner" /> Reading the split…
        </p>
      </section>
    );
  }
  const { totals, params } = summary;
  const needsSplit = totals.images > 0 && (params === null || totals.unsplit > 0);
  const fractions = `${Math.round((1 - SPLIT_FRACTIONS.val - SPLIT_FRACTIONS.test) * 100)} / ${SPLIT_FRACTIONS.val * 100} / ${SPLIT_FRACTIONS.test * 100}`;

  return (
    <section className="card split-card" data-testid="split-panel">
      <div className="panel-head">
        <h2>Split</h2>
        <button className={`button small ${needsSplit ? 'primary' : ''}`} onClick={split} disabled={busy || totals.images === 0} data-testid="split-run" title="Stratified per class; the test split stays fixed across re-splits">
          {busy ? <span className="spinner" /> : null}
          {params ? 'Split new images' : `Split ${fractions}`}
        </button>
      </div>
      {totals.images === 0 ? (
        <p className="inline-warning" data-testid="split-warning">
          No labeled images yet: import a folder whose sub-folders are the classes.
        </p>
      ) : params === null ? (
        <p className="split-warning" data-testid="split-warning">
          This project has no train / validation / test split yet, so training cannot start. Split it ({fractions} % per class), then train.
        </p>
      ) : totals.unsplit > 0 ? (
        <p className="split-warning" data-testid="split-warning">
          {totals.unsplit} labeled images have no split yet; they are left out of training until you split again.
        </p>
      ) : (
        <p className="muted small">
          Validation {Math.round(params.val * 100)} %, test {Math.round(params.test * 100)} % of each class, seed {params.seed}
          {params.testLocked ? '; the test split stays fixed across re-splits' : ''}.
        </p>
      )}
      {summary.locked && (
        <p className="muted small" data-testid="split-locked">
          🔒 The test split is locked (Data tab): re-splitting leaves it as it is.
        </p>
      )}
      {summary.warnings.length > 0 && (
        <ul className="class-warnings small" data-testid="split-class-warnings">
          {summary.warnings.map((w) => (
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
              <td className="num">{totals.test}</td>
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
