/**
 * The candidates of a search as they train: role, coefficients, the constraint, the network they
 * give (resolution, FLOPs, parameters), state and epochs, validation accuracy, measured time per
 * image and peak memory. A row (or its radio, for the keyboard) chooses the candidate whose
 * coefficients "Use these coefficients" keeps.
 */
import type { Candidate, SearchReport } from '../../../main/contract/calls-scaling';
import { formatMemory } from '../models/format';
import { formatAccuracy, formatCoefficient, formatMegaFlops, formatMsPerImage, formatParamCount, ROLE_MEANING, ROLE_WORDS, STATE_WORDS } from './lab-format';

export function CandidateTable({ report, selectedId, onSelect }: { report: SearchReport; selectedId: number | null; onSelect: (candidateId: number) => void }) {
  const positionOf = new Map(report.candidates.map((c) => [c.id, c.position + 1]));
  const front = new Set([...report.paretoFlops, ...report.paretoTime]);
  return (
    <div className="lab-table-scroll">
      <table className="table lab-table" data-testid="lab-candidates">
        <thead>
          <tr>
            <th aria-label="Choose" />
            <th className="num">#</th>
            <th>role</th>
            <th className="num">α</th>
            <th className="num">β</th>
            <th className="num">γ</th>
            <th className="num" title="α·β²·γ², the paper keeps it ≈ 2">α·β²·γ²</th>
            <th className="num">px</th>
            <th className="num">MFLOPs</th>
            <th className="num">params</th>
            <th>state</th>
            <th className="num">epochs</th>
            <th className="num">val acc</th>
            <th className="num" title="measured training time per image">ms / image</th>
            <th className="num">peak memory</th>
          </tr>
        </thead>
        <tbody>
          {report.candidates.map((c) => (
            <Row
              key={c.id}
              candidate={c}
              epochs={report.plan.epochs}
              repeatOf={c.repeatOf === null ? null : (positionOf.get(c.repeatOf) ?? null)}
              selected={c.id === selectedId}
              best={c.id === report.best?.candidateId}
              onFront={front.has(c.id)}
              onSelect={() => onSelect(c.id)}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Row({ candidate: c, epochs, repeatOf, selected, best, onFront, onSelect }: { candidate: Candidate; epochs: number; repeatOf: number | null; selected: boolean; best: boolean; onFront: boolean; onSelect: () => void }) {
  return (
    <tr className={`lab-row state-${c.state}${selected ? ' selected' : ''}${repeatOf !== null ? ' repeat' : ''}`} onClick={onSelect} data-testid={`lab-row-${c.id}`} data-state={c.state} data-role={c.role}>
      <td>
        <input type="radio" name="lab-candidate" checked={selected} onChange={onSelect} aria-label={`Choose candidate ${c.position + 1}`} data-testid={`lab-choose-${c.id}`} />
      </td>
      <td className="num">{c.position + 1}</td>
      <td title={ROLE_MEANING[c.role]}>
        <span className={`role-chip role-${c.role}`}>{ROLE_WORDS[c.role]}</span>
        {repeatOf !== null && <span className="muted small"> repeat of #{repeatOf}, seed {c.seed}</span>}
        {best && <span className="best-chip">best</span>}
        {onFront && <span className="front-chip" title="on a Pareto front (accuracy against FLOPs or time)">front</span>}
      </td>
      <td className="num">{formatCoefficient(c.alpha)}</td>
      <td className="num">{formatCoefficient(c.beta)}</td>
      <td className="num">{formatCoefficient(c.gamma)}</td>
      <td className="num">{c.constraint.toFixed(3)}</td>
      <td className="num">{c.resolution}</td>
      <td className="num">{formatMegaFlops(c.flops)}</td>
      <td className="num">{formatParamCount(c.params)}</td>
      <td title={c.reason ?? undefined} data-testid={`lab-state-${c.id}`}>
        <span className={`state-chip state-${c.state}`}>
          {c.state === 'training' && <span className="spinner" />}
          {STATE_WORDS[c.state]}
        </span>
      </td>
      <td className="num">
        {c.epochsDone} / {epochs}
      </td>
      <td className="num" data-testid={`lab-acc-${c.id}`}>
        {formatAccuracy(c.valAcc)}
      </td>
      <td className="num">{formatMsPerImage(c.secondsPerImage)}</td>
      <td className="num">{c.peakMemoryBytes === null ? '—' : formatMemory(c.peakMemoryBytes)}</td>
    </tr>
  );
}
