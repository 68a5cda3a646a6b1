/**
 * Compound scaling by hand: a φ slider and the α, β, γ constants, a live check of the paper's
 * constraint α·β²·γ² ≈ 2, and the network they give (multipliers, resolution, params, FLOPs,
 * training memory) as computed by the engine through models.describe. A family kept from a
 * scaling search (the Lab) fills α, β, γ and its base φ: φ then scales from that tiny base, not B0.
 */
import { useEffect, useState } from 'react';
import { SCALING_COEFFICIENT_RANGE } from '../../../main/contract/calls-models';
import type { ScalingFamily } from '../../../main/contract/calls-scaling';
import { familyOf } from '../lab/use-families';
import { flopsGrowthPerPhi, meetsConstraint, PAPER_SCALING, type CustomScaling } from './model-selection';
import { formatFlops, formatMemory, formatMultiplier, formatParams, formatPhi } from './format';
import type { Figures } from './ModelPicker';

export interface PhiRange {
  min: number;
  max: number;
  step: number;
}

/** The contract accepts α, β, γ in this range; outside it models.describe would refuse. */
const { min: CONSTANT_MIN, max: CONSTANT_MAX } = SCALING_COEFFICIENT_RANGE;

export function CustomScalingPanel({
  scaling,
  onChange,
  phiRange,
  figures,
  pending,
  problem,
  b0Flops,
  batch,
  families = [],
  selected,
  onSelect,
}: {
  scaling: CustomScaling;
  onChange: (next: CustomScaling) => void;
  phiRange: PhiRange;
  figures: Figures | null;
  pending: boolean;
  problem: string | null;
  b0Flops: number | null;
  batch: number;
  /** the project's families from scaling searches, newest first */
  families?: ScalingFamily[];
  selected: boolean;
  onSelect: () => void;
}) {
  const growth = flopsGrowthPerPhi(scaling);
  const ok = meetsConstraint(growth);
  const { phi, alpha, beta, gamma } = scaling;
  const basePhi = scaling.basePhi ?? 0;
  const expectedFlops = b0Flops === null ? null : b0Flops * growth ** phi;
  const family = familyOf(families, scaling);
  const chooseFamily = (value: string) => {
    const chosen = families.find((f) => String(f.id) === value);
    if (chosen) onChange({ ...scaling, alpha: chosen.alpha, beta: chosen.beta, gamma: chosen.gamma, basePhi: chosen.basePhi });
    else if (value === '') onChange({ phi, alpha, beta, gamma });
  };

  return (
    <section className="card custom-panel" data-testid="custom-panel">
      <div className="panel-head">
        <div>
          <h2>Custom compound scaling</h2>
          <p className="muted small">
            {basePhi === 0
              ? 'B0 scaled by one knob φ: negative φ gives tiny, fast models; φ = 0 is B0.'
              : `${family ? `Family "${family.name}"` : 'These coefficients'} scaled by φ from B0 at φ ${formatPhi(basePhi)}: φ = 0 is that base, φ = 1 the model its search measured.`}
          </p>
        </div>
        <button className={`button${selected ? ' primary' : ''}`} onClick={onSelect} data-testid="custom-use" disabled={selected}>
          {selected ? '✓ Selected' : 'Use this model'}
        </button>
      </div>

      <div className="custom-grid">
        <div className="custom-controls">
          {(families.length > 0 || basePhi !== 0) && (
            <label className="field custom-family-field">
              <span>Family</span>
              <select className="select" value={family ? String(family.id) : basePhi !== 0 ? 'own' : ''} onChange={(e) => chooseFamily(e.target.value)} data-testid="custom-family">
                <option value="">none — scale from B0</option>
                {!family && basePhi !== 0 && <option value="own">own α β γ above base φ {formatPhi(basePhi)}</option>}
                {families.map((f) => (
                  <option key={f.id} value={String(f.id)}>
                    {f.name} · base φ {formatPhi(f.basePhi)}
                  </option>
                ))}
              </select>
              {basePhi !== 0 && (
                <span className="muted small" data-testid="custom-base">
                  base φ {formatPhi(basePhi)}
                </span>
              )}
            </label>
          )}
          <label className="field">
            <span>
              φ <output className="phi-value" data-testid="phi-value">{formatPhi(phi)}</output>
            </span>
            <input
              type="range"
              className="phi-slider"
              data-testid="phi-slider"
              min={phiRange.min}
              max={phiRange.max}
              step={phiRange.step}
              value={phi}
              onChange={(e) => onChange({ ...scaling, phi: Number(e.target.value) })}
            />
            <span className="slider-scale muted small" aria-hidden>
              <span>{formatPhi(phiRange.min)}</span>
              <span>0 ({basePhi === 0 ? 'B0' : 'base'})</span>
              <span>{formatPhi(phiRange.max)}</span>
            </span>
          </label>
          <div className="constants">
            <ConstantField symbol="α" what="depth" value={alpha} onValue={(v) => onChange({ ...scaling, alpha: v })} testId="alpha-input" />
            <ConstantField symbol="β" what="width" value={beta} onValue={(v) => onChange({ ...scaling, beta: v })} testId="beta-input" />
            <ConstantField symbol="γ" what="resolution" value={gamma} onValue={(v) => onChange({ ...scaling, gamma: v })} testId="gamma-input" />
            <button
              className="button small"
              onClick={() => onChange({ ...scaling, ...PAPER_SCALING })}
              disabled={alpha === PAPER_SCALING.alpha && beta === PAPER_SCALING.beta && gamma === PAPER_SCALING.gamma}
              data-testid="constants-reset"
            >
              Paper's constants
            </button>
          </div>
          <div className={`constraint ${ok ? 'ok' : 'warn'}`} data-testid="constraint-check" data-state={ok ? 'ok' : 'warn'}>
            <div className="constraint-line">
              <span className="constraint-badge">{ok ? '✓' : '!'}</span>
              <span>
                α·β²·γ² = <strong data-testid="constraint-product">{growth.toFixed(3)}</strong>{' '}
                {ok ? '≈ 2' : <span data-testid="constraint-warning">— not ≈ 2 (allowed 1.8 – 2.2)</span>}
              </span>
            </div>
            <p className="small">
              FLOPs grow ≈ (α·β²·γ²)<sup>φ</sup> = {growth.toFixed(2)}
              <sup>φ</sup>
              {ok
                ? ': each step of φ roughly doubles the compute, as the paper intends.'
                : `: each step of φ multiplies the compute by ${growth.toFixed(2)} instead of ≈ 2, so φ no longer reads as "twice the compute", and these constants were never searched for accuracy.`}
              {basePhi !== 0 && figures && (
                <>
                  {' '}
                  At φ = {formatPhi(phi)}: {formatFlops(figures.flops)} G after rounding channels, blocks and resolution (at these sizes the rounding, the stem and the head keep the FLOPs above the formula).
                </>
              )}
              {basePhi === 0 && expectedFlops !== null && phi !== 0 && (
                <>
                  {' '}
                  At φ = {formatPhi(phi)}: ≈ {formatFlops(expectedFlops)} G expected from B0's {formatFlops(b0Flops!)} G
                  {figures ? `, ${formatFlops(figures.flops)} G after rounding channels, blocks and resolution.` : '.'}
                </>
              )}
            </p>
          </div>
        </div>

        <div className="custom-result" data-testid="custom-result" aria-busy={pending}>
          <p className="multipliers">
            depth ×α<sup>φ</sup> <strong data-testid="custom-depth">{formatMultiplier(alpha ** phi)}</strong>
            <span className="sep">·</span>
            width ×β<sup>φ</sup> <strong data-testid="custom-width">{formatMultiplier(beta ** phi)}</strong>
            <span className="sep">·</span>
            resolution ×γ<sup>φ</sup> <strong data-testid="custom-res-multiplier">{formatMultiplier(gamma ** phi)}</strong>
          </p>
          <div className="stat-row">
            <Stat label="resolution (px)" value={figures ? String(figures.resolution) : '…'} testId="custom-resolution" />
            <Stat label="params (M)" value={figures ? formatParams(figures.params) : '…'} testId="custom-params" />
            <Stat label="FLOPs (G)" value={figures ? formatFlops(figures.flops) : '…'} testId="custom-flops" />
            <Stat label={`train memory @ ${batch}`} value={figures ? formatMemory(figures.trainingMemoryBytes) : '…'} testId="custom-memory" />
          </div>
          {problem ? (
            <p className="inline-error small" data-testid="custom-problem">
              {problem}
            </p>
          ) : (
            <p className="muted small">{pending ? <span className="spinner" /> : figures ? `${figures.blocks} MBConv blocks · ${figures.name}` : ' '}</p>
          )}
        </div>
      </div>
    </section>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="stat">
      <span className="stat-value" data-testid={testId}>
        {value}
      </span>
      <span className="stat-label">{label}</span>
    </div>
  );
}

/**
 * A number field that keeps what the user types (so "1." can become "1.25") and passes a value
 * on only when it is a number the engine accepts; otherwise it says why beside the field.
 */
function ConstantField({ symbol, what, value, onValue, testId }: { symbol: string; what: string; value: number; onValue: (v: number) => void; testId: string }) {
  const [text, setText] = useState(String(value));
  useEffect(() => {
    // follow outside changes (reset to the paper's constants) without clobbering what is being typed
    setText((current) => (Number(current) === value ? current : String(value)));
  }, [value]);
  const parsed = Number(text);
  const problem = text.trim() === '' || !Number.isFinite(parsed) ? 'a number' : parsed < CONSTANT_MIN || parsed > CONSTANT_MAX ? `${CONSTANT_MIN} to ${CONSTANT_MAX}` : null;
  return (
    <label className="constant-field">
      <span>
        {symbol} <span className="muted small">{what}</span>
      </span>
      <input
        type="number"
        step={0.01}
        min={CONSTANT_MIN}
        max={CONSTANT_MAX}
        value={text}
        aria-invalid={problem !== null}
        data-testid={testId}
        onChange={(e) => {
          setText(e.target.value);
          const v = Number(e.target.value);
          if (e.target.value.trim() !== '' && Number.isFinite(v) && v >= CONSTANT_MIN && v <= CONSTANT_MAX) onValue(v);
        }}
      />
      {problem && <span className="field-problem small">needs {problem}</span>}
    </label>
  );
}
