/** The overall figures of an evaluation: accuracy, top-k, loss, macro and weighted P/R/F1, images, and what was skipped and why. */
import type { Evaluation } from '../../../main/contract/calls-eval';
import { formatLoss } from '../training/train-format';
import { formatPercent, formatRatio } from './eval-format';

export function MetricsSummary({ evaluation }: { evaluation: Evaluation }) {
  const e = evaluation;
  const topK = e.topK.filter((t) => t.k > 1);
  return (
    <div className="metrics-summary" data-testid="metrics-summary">
      <div className="metric-tiles">
        <Metric label="Accuracy" value={formatPercent(e.accuracy)} testId="metric-accuracy" strong />
        {topK.map((t) => (
          <Metric key={t.k} label={`Top-${t.k}`} value={formatPercent(t.accuracy)} testId={`metric-top-${t.k}`} />
        ))}
        <Metric label="Loss" value={formatLoss(e.loss)} testId="metric-loss" title="mean cross-entropy" />
        <Metric label="Images" value={String(e.images)} testId="metric-images" />
        <Metric label="Skipped" value={String(e.skipped.length)} testId="metric-skipped" warn={e.skipped.length > 0} />
      </div>
      <table className="table averages-table" data-testid="metrics-averages">
        <thead>
          <tr>
            <th />
            <th className="num">Precision</th>
            <th className="num">Recall</th>
            <th className="num">F1</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td title="unweighted mean over the classes in the split or the predictions">Macro average</td>
            <td className="num">{formatRatio(e.macro.precision)}</td>
            <td className="num">{formatRatio(e.macro.recall)}</td>
            <td className="num" data-testid="metric-macro-f1">
              {formatRatio(e.macro.f1)}
            </td>
          </tr>
          <tr>
            <td title="mean weighted by each class's support">Weighted average</td>
            <td className="num">{formatRatio(e.weighted.precision)}</td>
            <td className="num">{formatRatio(e.weighted.recall)}</td>
            <td className="num">{formatRatio(e.weighted.f1)}</td>
          </tr>
        </tbody>
      </table>
      <p className="muted small averages-note" data-testid="metrics-averages-note">
        As in scikit-learn (zero_division=0): a precision, recall or F1 that is undefined for a class (shown as — in its row) counts as 0 in both averages.
      </p>
      {e.skipped.length > 0 && (
        <details className="skipped-list" data-testid="metrics-skipped-list">
          <summary>
            {e.skipped.length} image{e.skipped.length === 1 ? ' was' : 's were'} not evaluated — why
          </summary>
          <ul>
            {e.skipped.slice(0, 200).map((s) => (
              <li key={s.id}>
                <span className="mono wrap">{s.path}</span>: {s.reason}
              </li>
            ))}
            {e.skipped.length > 200 && <li className="muted">… and {e.skipped.length - 200} more</li>}
          </ul>
        </details>
      )}
      <p className="muted small">
        {e.cached ? 'Stored evaluation' : `Computed in ${e.seconds.toFixed(1)} s`}
        {e.backend ? ` on ${e.backend}` : ''} · {new Date(e.computedAt).toLocaleString()}
      </p>
    </div>
  );
}

function Metric({ label, value, testId, strong, warn, title }: { label: string; value: string; testId: string; strong?: boolean; warn?: boolean; title?: string }) {
  return (
    <div className={`metric-tile${strong ? ' strong' : ''}${warn ? ' warn' : ''}`} title={title}>
      <span className="metric-value" data-testid={testId}>
        {value}
      </span>
      <span className="metric-label">{label}</span>
    </div>
  );
}
