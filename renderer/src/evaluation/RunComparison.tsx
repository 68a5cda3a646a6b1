/**
 * Two finished runs side by side: what differs in their configuration (highlighted), their loss
 * and accuracy curves in one chart each, their metrics on the same split, and both matrices.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { errorMessage, useClient } from '../api/client-context';
import type { EpochRecord, RunRecord } from '../../../main/contract/calls-data';
import type { EvalSplit, Evaluation } from '../../../main/contract/calls-eval';
import { LineChart, type ChartSeries } from '../training/LineChart';
import { formatLoss, variantLabel } from '../training/train-format';
import { ConfusionMatrix } from './ConfusionMatrix';
import { configDiff } from './config-diff';
import { formatPercent, formatRatio, runLabel } from './eval-format';
import { SaveFigureButtons } from './SaveFigureButtons';
import { useEvaluation } from './use-evaluation';

interface RunSide {
  run: RunRecord;
  epochs: EpochRecord[];
}

function useRunDetails(project: string, runId: number | null): { side: RunSide | null; problem: string | null } {
  const client = useClient();
  const [side, setSide] = useState<RunSide | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (runId === null) return;
    let current = true;
    setSide(null);
    setProblem(null);
    client.call('runs.get', { project, id: runId }).then(
      (r) => current && setSide(r),
      (err) => current && setProblem(errorMessage(err)),
    );
    return () => {
      current = false;
    };
  }, [client, project, runId]);
  return { side, problem };
}

export function RunComparison({ project, runs, runA, split }: { project: string; runs: RunRecord[]; runA: number; split: EvalSplit }) {
  const others = useMemo(() => runs.filter((r) => r.id !== runA), [runs, runA]);
  const [runB, setRunB] = useState<number | null>(others[0]?.id ?? null);
  useEffect(() => {
    if (runB === runA || (runB !== null && !runs.some((r) => r.id === runB))) setRunB(others[0]?.id ?? null);
  }, [runA, runB, runs, others]);
  const a = useRunDetails(project, runA);
  const b = useRunDetails(project, runB);
  const evalA = useEvaluation(project, runA, split);
  const evalB = useEvaluation(project, runB, split);

  if (others.length === 0)
    return (
      <p className="muted" data-testid="compare-empty">
        Only one run has finished. Train another (a different model, resolution or augmentation) to compare them here.
      </p>
    );
  const problem = a.problem ?? b.problem;
  return (
    <div className="run-comparison" data-testid="run-comparison">
      <label className="field compare-pick">
        <span>Compare run #{runA} with</span>
        <select className="select" value={runB ?? ''} onChange={(e) => setRunB(Number(e.target.value))} data-testid="compare-run-b">
          {others.map((r) => (
            <option key={r.id} value={r.id}>
              {runLabel(r)}
            </option>
          ))}
        </select>
      </label>
      {problem && <p className="inline-error">Cannot read the runs: {problem}</p>}
      {a.side && b.side && (
        <>
          <ConfigTable a={a.side.run} b={b.side.run} />
          <CompareCurves a={a.side} b={b.side} />
        </>
      )}
      <CompareMetrics a={evalA.evaluation} b={evalB.evaluation} runA={runA} runB={runB} loading={evalA.loading || evalB.loading} problem={evalA.problem ?? evalB.problem} />
      <div className="compare-matrices">
        {[evalA.evaluation, evalB.evaluation].map(
          (e, i) =>
            e && (
              <div key={i} className="compare-matrix">
                <h3>Run #{e.runId}</h3>
                <ConfusionMatrix classes={e.classes} confusion={e.confusion} compact saveName={`run ${e.runId} ${split} confusion`} testId={`compare-matrix-${i === 0 ? 'a' : 'b'}`} />
              </div>
            ),
        )}
      </div>
    </div>
  );
}

function ConfigTable({ a, b }: { a: RunRecord; b: RunRecord }) {
  const [onlyDiffs, setOnlyDiffs] = useState(true);
  const rows = useMemo(() => configDiff(comparableConfig(a), comparableConfig(b)), [a, b]);
  const shown = onlyDiffs ? rows.filter((r) => r.differs) : rows;
  return (
    <section className="compare-config">
      <div className="section-head">
        <h3>Configuration</h3>
        <label className="checkbox small">
          <input type="checkbox" checked={onlyDiffs} onChange={(e) => setOnlyDiffs(e.target.checked)} data-testid="compare-only-diffs" />
          only what differs ({rows.filter((r) => r.differs).length} of {rows.length})
        </label>
      </div>
      <table className="table config-diff" data-testid="compare-config">
        <thead>
          <tr>
            <th>Setting</th>
            <th>Run #{a.id}</th>
            <th>Run #{b.id}</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.key} className={r.differs ? 'differs' : ''} data-testid="compare-config-row" data-key={r.key} data-differs={r.differs}>
              <td title={`stored as ${r.key}`}>{r.label}</td>
              <td className="wrap">{r.a}</td>
              <td className="wrap">{r.b}</td>
            </tr>
          ))}
          {shown.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                The two runs have the same configuration.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

/** The stored configuration with the run's own facts on top: the model in words, the backend it really ran on. */
function comparableConfig(run: RunRecord): Record<string, unknown> {
  const { model: _model, ...config } = run.config;
  return { ...config, variant: variantLabel(run.variant), resolution: run.resolution, backend: run.backend ?? config.backend ?? null, classes: run.classes };
}

function curve(epochs: EpochRecord[], id: string, label: string, className: string, pick: (e: EpochRecord) => number | null): ChartSeries {
  return { id, label, className, points: epochs.flatMap((e) => (pick(e) === null || !Number.isFinite(pick(e)) ? [] : [{ x: e.epoch + 1, y: pick(e)! }])) };
}

function CompareCurves({ a, b }: { a: RunSide; b: RunSide }) {
  const lossRef = useRef<HTMLDivElement>(null);
  const accRef = useRef<HTMLDivElement>(null);
  const both = (pickTrain: (e: EpochRecord) => number | null, pickVal: (e: EpochRecord) => number | null) => [
    curve(a.epochs, 'a-train', `#${a.run.id} train`, 'series-a-train', pickTrain),
    curve(a.epochs, 'a-val', `#${a.run.id} val`, 'series-a-val', pickVal),
    curve(b.epochs, 'b-train', `#${b.run.id} train`, 'series-b-train', pickTrain),
    curve(b.epochs, 'b-val', `#${b.run.id} val`, 'series-b-val', pickVal),
  ];
  return (
    <section className="run-charts compare-curves" data-testid="compare-curves">
      <div ref={lossRef} className="saveable-chart">
        <LineChart title="Loss" xLabel="epoch" yLabel="loss" series={both((e) => e.trainLoss, (e) => e.valLoss)} testId="compare-chart-loss" />
        <SaveFigureButtons container={lossRef} name={`runs ${a.run.id} and ${b.run.id} loss`} testId="compare-chart-loss-save" />
      </div>
      <div ref={accRef} className="saveable-chart">
        <LineChart title="Accuracy" xLabel="epoch" yLabel="accuracy" yDomain={[0, 1]} units="percent" series={both((e) => e.trainAcc, (e) => e.valAcc)} testId="compare-chart-acc" />
        <SaveFigureButtons container={accRef} name={`runs ${a.run.id} and ${b.run.id} accuracy`} testId="compare-chart-acc-save" />
      </div>
    </section>
  );
}

function CompareMetrics({ a, b, runA, runB, loading, problem }: { a: Evaluation | null; b: Evaluation | null; runA: number; runB: number | null; loading: boolean; problem: string | null }) {
  if (problem) return <p className="inline-error">Cannot evaluate: {problem}</p>;
  if (loading || !a || !b)
    return (
      <p className="muted">
        <span className="spinner" /> Evaluating both runs…
      </p>
    );
  const rows: { label: string; a: number | null; b: number | null; format: (v: number | null) => string; higherIsBetter: boolean }[] = [
    { label: 'Accuracy', a: a.accuracy, b: b.accuracy, format: formatPercent, higherIsBetter: true },
    ...a.topK.filter((t) => t.k > 1).map((t) => ({ label: `Top-${t.k}`, a: t.accuracy, b: b.topK.find((u) => u.k === t.k)?.accuracy ?? null, format: formatPercent, higherIsBetter: true })),
    { label: 'Loss', a: a.loss, b: b.loss, format: formatLoss, higherIsBetter: false },
    { label: 'Macro F1', a: a.macro.f1, b: b.macro.f1, format: formatRatio, higherIsBetter: true },
    { label: 'Weighted F1', a: a.weighted.f1, b: b.weighted.f1, format: formatRatio, higherIsBetter: true },
    { label: 'Macro precision', a: a.macro.precision, b: b.macro.precision, format: formatRatio, higherIsBetter: true },
    { label: 'Macro recall', a: a.macro.recall, b: b.macro.recall, format: formatRatio, higherIsBetter: true },
    { label: 'Images', a: a.images, b: b.images, format: (v) => String(v ?? '—'), higherIsBetter: true },
  ];
  const better = (x: number | null, y: number | null, higher: boolean) => x !== null && y !== null && x !== y && (higher ? x > y : x < y);
  return (
    <table className="table compare-metrics" data-testid="compare-metrics">
      <thead>
        <tr>
          <th>On {a.split}</th>
          <th className="num">Run #{runA}</th>
          <th className="num">Run #{runB}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.label}>
            <td>{r.label}</td>
            <td className={`num${better(r.a, r.b, r.higherIsBetter) && r.label !== 'Images' ? ' better' : ''}`}>{r.format(r.a)}</td>
            <td className={`num${better(r.b, r.a, r.higherIsBetter) && r.label !== 'Images' ? ' better' : ''}`}>{r.format(r.b)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
