/**
 * "Predict on": the ONNX Runtime execution provider of the Evaluate tab's predictions. Providers
 * that do not load here are listed, disabled, with the reason in their tooltip; a software adapter
 * (SwiftShader) can be chosen but is marked as slower than the CPU.
 */
import type { InferenceProviderChoice } from './use-inference-provider';

export function ProviderPicker({ choice }: { choice: InferenceProviderChoice }) {
  const { probe, problem, provider, setProvider } = choice;
  const auto = probe?.default ? `auto (${probe.default}${probe.default === 'cpu' ? `, ${probe.threads} threads` : ''})` : 'auto';
  return (
    <label className="provider-picker" title={problem ?? 'Where predictions run: ONNX Runtime on this execution provider. "Recompute" predicts again on it.'}>
      <span className="muted">Predict on</span>
      <select
        className="select small"
        value={provider ?? ''}
        onChange={(e) => setProvider(e.target.value === '' ? null : (e.target.value as NonNullable<typeof provider>))}
        data-testid="eval-provider"
      >
        <option value="">{auto}</option>
        {probe?.providers.map((p) => (
          <option key={p.name} value={p.name} disabled={!p.loads} title={p.reason ?? p.device ?? ''}>
            {p.name}
            {p.software ? ' (software, slow)' : ''}
            {p.loads ? '' : ' — not here'}
          </option>
        ))}
      </select>
    </label>
  );
}
