/**
 * Export a finished run: format (TF.js / ONNX), weight precision, output folder. An existing
 * folder is only replaced after the user confirms (the call is repeated with force). Progress
 * comes from export.progress for this dialog's job id; the result shows files, sizes, the
 * precision table, parity and the folder. Earlier exports are listed below.
 */
import { useEffect, useState } from 'react';
import { errorMessage, useClient, useEvent } from '../api/client-context';
import type { ExportFormat, ExportResult, Quantization } from '../../../main/contract/calls-export';
import type { RunRecord } from '../../../main/contract/calls-data';
import { BrowseButton } from '../components/BrowseButton';
import { FolderBrowser } from '../components/FolderBrowser';
import { joinPath, baseName as pathBaseName } from '../paths';
import { defaultExportFolder, newJobId } from './export-defaults';
import { ExportResultView } from './ExportResultView';
import { ExportHistory } from './ExportHistory';
import { runLabel } from './eval-format';

type Stage =
  | { kind: 'form'; error?: string }
  | { kind: 'confirm'; message: string }
  | { kind: 'running'; jobId: string; message: string }
  | { kind: 'done'; result: ExportResult };

const FORMATS: { value: ExportFormat; label: string; hint: string }[] = [
  { value: 'tfjs', label: 'TF.js', hint: 'model.json + weight shards, for the browser and Node' },
  { value: 'onnx', label: 'ONNX', hint: 'one .onnx file (opset 13+), for onnxruntime in Python, C#, C++, Node' },
];
const PRECISIONS: { value: Quantization; label: string; hint: string }[] = [
  { value: 'none', label: 'float32', hint: 'full precision' },
  { value: 'float16', label: 'float16', hint: 'half the size, accuracy nearly unchanged' },
  { value: 'uint8', label: 'uint8', hint: 'a quarter of the size; check the test accuracy below' },
];

export function ExportDialog({ project, run, onClose }: { project: string; run: RunRecord; onClose: () => void }) {
  const client = useClient();
  const [format, setFormat] = useState<ExportFormat>('onnx');
  const [quantize, setQuantize] = useState<Quantization>('none');
  // null: follow the format and precision (default folder); a string: what the user typed or picked
  const [chosenOut, setChosenOut] = useState<string | null>(null);
  const [browsing, setBrowsing] = useState(false);
  const [stage, setStage] = useState<Stage>({ kind: 'form' });
  const [historyKey, setHistoryKey] = useState(0);
  const out = chosenOut ?? defaultExportFolder(project, run.id, format, quantize);
  const running = stage.kind === 'running';

  // Escape closes the dialog, except while an export runs (it would go on unseen).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !running) onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [running, onClose]);

  useEvent('export.progress', (p) => {
    setStage((s) => (s.kind === 'running' && s.jobId === p.jobId ? { ...s, message: p.message } : s));
  });

  const start = async (force: boolean) => {
    const jobId = newJobId();
    setStage({ kind: 'running', jobId, message: 'Starting the export…' });
    try {
      const result = await client.call('export.run', { project, runId: run.id, format, quantize, out: out.trim(), force, jobId });
      setStage({ kind: 'done', result });
      setHistoryKey((k) => k + 1);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'already_exists' && !force) setStage({ kind: 'confirm', message: errorMessage(err) });
      else setStage({ kind: 'form', error: errorMessage(err) });
    }
  };

  return (
    <div className="modal-backdrop" onClick={running ? undefined : onClose}>
      <div className="dialog export-dialog" role="dialog" aria-modal="true" aria-label="Export the model" data-testid="export-dialog" onClick={(e) => e.stopPropagation()}>
        <div className="dialog-head">
          <h2>Export run {runLabel(run)}</h2>
          {!running && (
            <button className="icon-button" aria-label="Close" onClick={onClose} data-testid="export-close">
              ×
            </button>
          )}
        </div>
        {stage.kind === 'done' ? (
          <ExportResultView result={stage.result} />
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (!running) void start(false);
            }}
          >
            <div className="field">
              <span>Format</span>
              <Choice options={FORMATS} value={format} onChange={setFormat} disabled={running} testId="export-format" />
            </div>
            <div className="field">
              <span>Weights</span>
              <Choice options={PRECISIONS} value={quantize} onChange={setQuantize} disabled={running} testId="export-quantize" />
            </div>
            <label className="field">
              <span>Output folder</span>
              <div className="input-row">
                <input value={out} onChange={(e) => setChosenOut(e.target.value)} disabled={running} data-testid="export-out" spellCheck={false} />
                <BrowseButton open={browsing} onToggleInPage={() => setBrowsing((b) => !b)} onPicked={(dir) => setChosenOut(joinPath(dir, pathBaseName(out)))} testId="export-browse" />
              </div>
              <span className="muted small">The export is written to a temporary folder first and renamed at the end: a failure leaves nothing half-written.</span>
            </label>
            {browsing && (
              <FolderBrowser
                pick="folder"
                testId="export-folder-browser"
                onPick={(dir) => {
                  // The picked folder is where the export folder goes, named as before.
                  setChosenOut(joinPath(dir, pathBaseName(out)));
                  setBrowsing(false);
                }}
              />
            )}
            {stage.kind === 'form' && stage.error && (
              <p className="inline-error" data-testid="export-error">
                Export failed: {stage.error}
              </p>
            )}
            {stage.kind === 'confirm' && (
              <div className="confirm-box" data-testid="export-confirm">
                <p>
                  <strong>{out}</strong> already exists. Replace it? Everything in that folder will be deleted.
                </p>
                <p className="muted small">{stage.message}</p>
                <div className="dialog-actions">
                  <button type="button" className="button" onClick={() => setStage({ kind: 'form' })} data-testid="export-confirm-cancel">
                    Keep it
                  </button>
                  <button type="button" className="button danger" onClick={() => void start(true)} data-testid="export-confirm-replace">
                    Replace the folder
                  </button>
                </div>
              </div>
            )}
            {running && (
              <div className="export-progress" data-testid="export-progress">
                <div className="progress-bar indeterminate">
                  <div className="progress-fill" />
                </div>
                <p className="small muted">{stage.message}</p>
              </div>
            )}
            {stage.kind !== 'confirm' && (
              <div className="dialog-actions">
                <button type="button" className="button" onClick={onClose} disabled={running}>
                  Cancel
                </button>
                <button type="submit" className="button primary" disabled={running || !out.trim()} data-testid="export-start">
                  {running ? 'Exporting…' : 'Export'}
                </button>
              </div>
            )}
          </form>
        )}
        {stage.kind === 'done' && (
          <div className="dialog-actions">
            <button type="button" className="button" onClick={() => setStage({ kind: 'form' })} data-testid="export-again">
              Export another
            </button>
            <button type="button" className="button primary" onClick={onClose} data-testid="export-done">
              Done
            </button>
          </div>
        )}
        <h3 className="export-history-title">Earlier exports</h3>
        <ExportHistory project={project} runId={run.id} refreshKey={historyKey} />
      </div>
    </div>
  );
}

function Choice<T extends string>({ options, value, onChange, disabled, testId }: { options: { value: T; label: string; hint: string }[]; value: T; onChange: (v: T) => void; disabled: boolean; testId: string }) {
  return (
    <div className="choice-row">
      <span className="segmented" role="radiogroup">
        {options.map((o) => (
          <button type="button" key={o.value} role="radio" aria-checked={value === o.value} className={value === o.value ? 'active' : ''} onClick={() => onChange(o.value)} disabled={disabled} title={o.hint} data-testid={`${testId}-${o.value}`}>
            {o.label}
          </button>
        ))}
      </span>
      <span className="muted small">{options.find((o) => o.value === value)?.hint}</span>
    </div>
  );
}
