/**
 * From a search result to a model: "Use these coefficients" keeps the chosen candidate's α, β, γ
 * (with the search's base) as a family of the project (scale.choose); the φ explorer then shows
 * how that family grows — depth, width, resolution, parameters, FLOPs, training memory and time
 * per image against B0..B7 (scale.explore) — and its slider picks the one φ to train, which
 * "Train this model" hands to the Train tab.
 */
import { useEffect, useRef, useState } from 'react';
import { useClient, useReportError, errorMessage } from '../api/client-context';
import type { CallOutput } from '../../../main/contract/contract';
import type { ExploreRow, ScalingFamily, SearchReport } from '../../../main/contract/calls-scaling';
import type { CustomScaling } from '../models/model-selection';
import { PHI_STEP } from '../models/model-selection';
import { formatMemory, formatMultiplier, formatPhi } from '../models/format';
import { SaveFigureButtons } from '../evaluation/SaveFigureButtons';
import { ExploreChart } from './ExploreChart';
import { METRIC_WORDS, phiSpan, type ExploreMetric } from './explore-data';
import { formatCoefficients, formatMegaFlops, formatMsPerImage, formatParamCount, ROLE_WORDS } from './lab-format';

type Explore = CallOutput<'scale.explore'>;

const PICK_DELAY_MS = 150;
const METRICS: ExploreMetric[] = ['flops', 'trainingMemoryBytes', 'secondsPerImage', 'params', 'resolution', 'depth', 'width'];

export function FamilyPanel({ project, report, candidateId, batch, onTrain }: { project: string; report: SearchReport; candidateId: number | null; batch: number; onTrain: (scaling: CustomScaling) => void }) {
  const client = useClient();
  const reportError = useReportError();
  const [family, setFamily] = useState<ScalingFamily | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [choosing, setChoosing] = useState(false);
  const candidate = report.candidates.find((c) => c.id === candidateId) ?? null;

  // the family last kept from this search, so coming back to the Lab finds it again
  useEffect(() => {
    let current = true;
    setFamily(null);
    client.call('scale.families', { project }).then(
      ({ families }) => current && setFamily(families.find((f) => f.searchId === report.id) ?? null),
      (err) => current && reportError(err, 'Cannot list the families'),
    );
    return () => {
      current = false;
    };
  }, [client, project, report.id, reportError]);

  const choose = async () => {
    if (!candidate) return;
    setChoosing(true);
    setProblem(null);
    try {
      setFamily((await client.call('scale.choose', { project, searchId: report.id, candidateId: candidate.id })).family);
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setChoosing(false);
    }
  };

  const kept = family !== null && candidate !== null && family.alpha === candidate.alpha && family.beta === candidate.beta && family.gamma === candidate.gamma;
  return (
    <section className="card lab-family" data-testid="lab-family">
      <div className="panel-head">
        <div>
          <h2>Use these coefficients</h2>
          <p className="muted small">
            {candidate ? (
              <>
                Candidate #{candidate.position + 1} ({ROLE_WORDS[candidate.role]}): <strong data-testid="lab-chosen-coefficients">{formatCoefficients(candidate)}</strong> above base φ {formatPhi(report.plan.basePhi)}
                {candidate.id === report.best?.candidateId ? ' — the best of this search.' : '.'} Click a point or a row to choose another.
              </>
            ) : (
              'Choose a candidate: click a point of the chart or a row of the table.'
            )}
          </p>
        </div>
        <button className="button primary" onClick={() => void choose()} disabled={!candidate || choosing || kept} data-testid="lab-use">
          {choosing && <span className="spinner" />}
          {kept ? '✓ Kept as a family' : 'Use these coefficients'}
        </button>
      </div>
      {problem && (
        <p className="inline-error small" data-testid="lab-use-error">
          {problem}
        </p>
      )}
      {family && <PhiExplorer project={project} family={family} searchId={report.id} batch={batch} onTrain={onTrain} />}
    </section>
  );
}

function PhiExplorer({ project, family, searchId, batch, onTrain }: { project: string; family: ScalingFamily; searchId: number; batch: number; onTrain: (scaling: CustomScaling) => void }) {
  const client = useClient();
  const reportError = useReportError();
  const [explore, setExplore] = useState<Explore | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [phi, setPhi] = useState(1);
  const [picked, setPicked] = useState<ExploreRow | null>(null);
  const [metric, setMetric] = useState<ExploreMetric>('flops');
  const chartRef = useRef<HTMLDivElement>(null);
  const { alpha, beta, gamma, basePhi } = family;
  const coefficients = { alpha, beta, gamma, basePhi, batch, project, searchId };
  const key = JSON.stringify(coefficients);

  useEffect(() => {
    let current = true;
    client.call('scale.explore', JSON.parse(key) as typeof coefficients).then(
      (result) => {
        if (!current) return;
        setExplore(result);
        setProblem(null);
      },
      (err) => current && setProblem(errorMessage(err)),
    );
    return () => {
      current = false;
    };
    // key stands for the coefficients (an object would be new each render)
  }, [client, key]);

  // the slider's model, asked once the hand rests; only the latest answer counts
  const pickSeq = useRef(0);
  useEffect(() => {
    const seq = ++pickSeq.current;
    const timer = setTimeout(() => {
      client.call('scale.explore', { ...(JSON.parse(key) as typeof coefficients), phis: [phi] }).then(
        (result) => seq === pickSeq.current && setPicked(result.family[0] ?? null),
        (err) => seq === pickSeq.current && reportError(err, `Cannot describe φ ${phi} of this family`),
      );
    }, PICK_DELAY_MS);
    return () => clearTimeout(timer);
    // key stands for the coefficients (an object would be new each render)
  }, [client, key, phi, reportError]);

  const span = explore ? phiSpan(explore.family, PHI_STEP) : { min: 0, max: 4 };
  const model: CustomScaling = { phi, alpha, beta, gamma, basePhi };

  return (
    <div className="lab-explorer" data-testid="lab-explorer" data-family={family.id}>
      <p className="small">
        Family <strong data-testid="lab-family-name">{family.name}</strong>: {formatCoefficients(family)}, base φ {formatPhi(basePhi)}. φ 1 is the model the search measured
        (<span className="mono">{family.example}</span>); each further step of φ about doubles the FLOPs.
      </p>
      <div className="lab-explorer-pick">
        <label className="field lab-phi-field">
          <span>
            φ <output data-testid="lab-explore-phi">{formatPhi(phi)}</output>
          </span>
          <input type="range" min={span.min} max={span.max} step={PHI_STEP} value={phi} onChange={(e) => setPhi(Number(e.target.value))} data-testid="lab-explore-slider" aria-label="φ of the model to train" />
        </label>
        <div className="lab-picked" data-testid="lab-explore-picked">
          {picked ? (
            <>
              <strong>{picked.label}</strong>
              <span className="small">
                depth ×{formatMultiplier(picked.depth)} · width ×{formatMultiplier(picked.width)} · {picked.resolution} px · {picked.blocks} blocks · {formatParamCount(picked.params)} params ·{' '}
                {formatMegaFlops(picked.flops)} MFLOPs · {formatMemory(picked.trainingMemoryBytes)} at batch {batch} · {formatMsPerImage(picked.secondsPerImage)} ms/image
              </span>
            </>
          ) : (
            <span className="spinner" />
          )}
        </div>
        <button className="button primary" onClick={() => onTrain(model)} data-testid="lab-train-model" title={`Open the Train tab with φ ${formatPhi(phi)} of this family selected`}>
          Train this model
        </button>
      </div>
      {problem && (
        <p className="inline-error small" data-testid="lab-explore-error">
          Cannot explore this family: {problem}
        </p>
      )}
      {explore && (
        <>
          <figure className="lab-figure" ref={chartRef}>
            <figcaption className="chart-head">
              <span className="chart-title">{METRIC_WORDS[metric]} against φ</span>
              <span className="segmented lab-metric" role="radiogroup" aria-label="Figure">
                {METRICS.map((m) => (
                  <button key={m} type="button" role="radio" aria-checked={metric === m} className={metric === m ? 'active' : ''} onClick={() => setMetric(m)} data-testid={`lab-metric-${m}`}>
                    {METRIC_WORDS[m]}
                  </button>
                ))}
              </span>
              <SaveFigureButtons container={chartRef} name={`family ${family.id} ${METRIC_WORDS[metric]} against phi`} testId="lab-explore-save" />
            </figcaption>
            <ExploreChart family={explore.family} variants={explore.variants} metric={metric} pickedPhi={phi} />
          </figure>
          <p className="muted small" data-testid="lab-time-basis">
            Time per image: {explore.timeBasis}
          </p>
          <ExploreTable explore={explore} batch={batch} />
        </>
      )}
    </div>
  );
}

function ExploreTable({ explore, batch }: { explore: Explore; batch: number }) {
  const section = (title: string, rows: ExploreRow[], testId: string) => (
    <>
      <tr className="group-row">
        <td colSpan={10}>{title}</td>
      </tr>
      {rows.map((r) => (
        <tr key={`${testId}-${r.model}`} data-testid={`${testId}-row`}>
          <td>{r.label}</td>
          <td className="num">{r.phi === null ? '—' : formatPhi(r.phi)}</td>
          <td className="num">{formatMultiplier(r.depth)}</td>
          <td className="num">{formatMultiplier(r.width)}</td>
          <td className="num">{r.resolution}</td>
          <td className="num">{r.blocks}</td>
          <td className="num">{formatParamCount(r.params)}</td>
          <td className="num">{formatMegaFlops(r.flops)}</td>
          <td className="num">{formatMemory(r.trainingMemoryBytes)}</td>
          <td className="num">{formatMsPerImage(r.secondsPerImage)}</td>
        </tr>
      ))}
    </>
  );
  return (
    <div className="lab-table-scroll">
      <table className="table lab-explore-table variant-table" data-testid="lab-explore-table">
        <thead>
          <tr>
            <th>model</th>
            <th className="num">φ</th>
            <th className="num">depth ×</th>
            <th className="num">width ×</th>
            <th className="num">px</th>
            <th className="num">blocks</th>
            <th className="num">params</th>
            <th className="num">MFLOPs</th>
            <th className="num">memory @ {batch}</th>
            <th className="num">ms / image</th>
          </tr>
        </thead>
        <tbody>
          {section('This family', explore.family, 'lab-explore-family')}
          {section('B0..B7 as published', explore.variants, 'lab-explore-variant')}
        </tbody>
      </table>
    </div>
  );
}
