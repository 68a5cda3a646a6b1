/**
 * Import a folder into the open project: pick the folder, start, watch progress from
 * 'import.progress' events, cancel, and read a summary that lists every rejected file with its
 * reason and every duplicate.
 */
import { useRef, useState } from 'react';
import { useClient, useEvent, useReportError, errorMessage } from '../api/client-context';
import type { ImportProgress, ImportResult } from '../../../main/contract/contract';
import { FolderBrowser } from './FolderBrowser';
import { BrowseButton } from './BrowseButton';

type Stage = { kind: 'form'; error?: string } | { kind: 'running'; jobId: string; progress: ImportProgress | null; cancelling: boolean } | { kind: 'done'; result: ImportResult };

export function ImportDialog({ project, startFolder, onClose }: { project: string; startFolder?: string; onClose: () => void }) {
  const client = useClient();
  const reportError = useReportError();
  const [folder, setFolder] = useState(startFolder ?? '');
  const [labelsFromFolders, setLabelsFromFolders] = useState(true);
  const [browsing, setBrowsing] = useState(false);
  const [stage, setStage] = useState<Stage>({ kind: 'form' });
  const stageRef = useRef(stage);
  stageRef.current = stage;

  useEvent('import.progress', (progress) => {
    const current = stageRef.current;
    if (current.kind === 'running' && progress.jobId === current.jobId) setStage({ ...current, progress });
  });

  const start = async () => {
    const jobId = newJobId();
    setStage({ kind: 'running', jobId, progress: null, cancelling: false });
    try {
      const result = await client.call('import.folder', { project, folder: folder.trim(), labelsFromFolders, jobId });
      setStage({ kind: 'done', result });
    } catch (err) {
      // Shown inside the dialog, next to the folder the user typed, rather than as a toast.
      setStage({ kind: 'form', error: errorMessage(err) });
    }
  };

  const cancel = async (jobId: string) => {
    setStage((s) => (s.kind === 'running' ? { ...s, cancelling: true } : s));
    try {
      await client.call('import.cancel', { jobId });
    } catch (err) {
      setStage((s) => (s.kind === 'running' ? { ...s, cancelling: false } : s));
      reportError(err, 'Cannot cancel the import');
    }
  };

  const running = stage.kind === 'running';
  return (
    <div className="modal-backdrop" onClick={running ? undefined : onClose}>
      <div className="dialog import-dialog" role="dialog" aria-modal="true" aria-label="Import a folder" data-testid="import-dialog" onClick={(e) => e.stopPropagation()}>
        <div className="dialog-head">
          <h2>Import a folder</h2>
          {!running && (
            <button className="icon-button" aria-label="Close" onClick={onClose} data-testid="import-close">
              ×
            </button>
          )}
        </div>

        {stage.kind === 'form' && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (folder.trim()) void start();
            }}
          >
            <label className="field">
              <span>Folder with images</span>
              <div className="input-row">
                <input data-testid="import-folder-input" value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/path/to/images" autoFocus />
                <BrowseButton open={browsing} onToggleInPage={() => setBrowsing((b) => !b)} onPicked={setFolder} testId="import-browse" />
              </div>
            </label>
            {browsing && (
              <FolderBrowser
                start={folder.trim() || undefined}
                pick="folder"
                onPick={(p) => {
                  setFolder(p);
                  setBrowsing(false);
                }}
              />
            )}
            <label className="checkbox">
              <input type="checkbox" checked={labelsFromFolders} onChange={(e) => setLabelsFromFolders(e.target.checked)} data-testid="import-labels-from-folders" />
              Labels from sub-folder names <span className="muted small">(images directly in the folder stay unlabeled)</span>
            </label>
            {stage.error && (
              <p className="inline-error" data-testid="import-error">
                {stage.error}
              </p>
            )}
            <div className="dialog-actions">
              <button type="button" className="button" onClick={onClose}>
                Close
              </button>
              <button type="submit" className="button primary" disabled={!folder.trim()} data-testid="import-start">
                Start import
              </button>
            </div>
          </form>
        )}

        {stage.kind === 'running' && <ProgressView progress={stage.progress} cancelling={stage.cancelling} onCancel={() => cancel(stage.jobId)} />}

        {stage.kind === 'done' && (
          <>
            <ImportSummary result={stage.result} />
            <div className="dialog-actions">
              <button className="button" onClick={() => setStage({ kind: 'form' })}>
                Import another folder
              </button>
              <button className="button primary" onClick={onClose} data-testid="import-done">
                Done
              </button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}

function ProgressView({ progress, cancelling, onCancel }: { progress: ImportProgress | null; cancelling: boolean; onCancel: () => void }) {
  const total = progress?.total ?? null;
  const fraction = progress && total ? Math.min(1, progress.seen / total) : null;
  const phase = progress?.phase ?? 'scanning';
  return (
    <div className="import-progress" data-testid="import-progress" data-phase={phase}>
      <div className={`progress-bar${fraction === null ? ' indeterminate' : ''}`} role="progressbar" aria-valuemin={0} aria-valuemax={total ?? undefined} aria-valuenow={progress?.seen}>
        <div className="progress-fill" style={fraction === null ? undefined : { width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
      <div className="progress-line">
        <span>
          {phaseWords(phase)} · {progress?.seen.toLocaleString('en-US') ?? 0}
          {total !== null && ` of ${total.toLocaleString('en-US')}`} files
        </span>
        <span className="muted">{progress ? `${progress.ratePerSecond.toFixed(1)} images/s · ${progress.elapsedSeconds.toFixed(0)} s` : ''}</span>
      </div>
      <div className="stat-row">
        <Stat label="imported" value={progress?.imported ?? 0} />
        <Stat label="unchanged" value={progress?.unchanged ?? 0} />
        <Stat label="duplicates" value={progress?.duplicates ?? 0} />
        <Stat label="rejected" value={progress?.rejected ?? 0} tone={progress?.rejected ? 'warn' : undefined} />
      </div>
      <div className="dialog-actions">
        <button className="button danger" onClick={onCancel} disabled={cancelling} data-testid="import-cancel">
          {cancelling ? 'Cancelling…' : 'Cancel import'}
        </button>
      </div>
    </div>
  );
}

function ImportSummary({ result }: { result: ImportResult }) {
  return (
    <div className="import-summary" data-testid="import-summary" data-cancelled={result.cancelled}>
      <p className={result.cancelled ? 'inline-warning' : ''}>
        {result.cancelled ? 'Import cancelled. ' : 'Import finished. '}
        {result.seen.toLocaleString('en-US')} files looked at in {result.elapsedSeconds.toFixed(1)} s ({result.imagesPerSecond.toFixed(1)} images/s) from <span className="mono">{result.folder}</span>.
      </p>
      <div className="stat-row">
        <Stat label="imported" value={result.imported} testId="summary-imported" />
        <Stat label="updated" value={result.updated} />
        <Stat label="unchanged" value={result.unchanged} />
        <Stat label="duplicates" value={result.duplicate} testId="summary-duplicates" />
        <Stat label="rejected" value={result.rejected} tone={result.rejected ? 'warn' : undefined} testId="summary-rejected" />
        <Stat label="missing" value={result.missing} />
      </div>
      {result.classes.length > 0 && (
        <p className="small">
          Classes:{' '}
          {result.classes.map((c, i) => (
            <span key={c.name}>
              {i > 0 && ', '}
              <strong>{c.name}</strong> {c.count}
            </span>
          ))}
        </p>
      )}
      {result.rejections.length > 0 && (
        <details open className="summary-list" data-testid="summary-rejections">
          <summary>Rejected files ({result.rejections.length})</summary>
          <table className="table compact">
            <tbody>
              {result.rejections.map((r) => (
                <tr key={r.path}>
                  <td className="mono wrap">{r.path}</td>
                  <td>{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      {result.duplicates.length > 0 && (
        <details className="summary-list" data-testid="summary-duplicate-list">
          <summary>Duplicates ({result.duplicates.length}) — not imported twice</summary>
          <table className="table compact">
            <tbody>
              {result.duplicates.map((d) => (
                <tr key={d.path}>
                  <td className="mono wrap">{d.path}</td>
                  <td className="mono wrap">same content as {d.duplicateOf}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}

function Stat({ label, value, tone, testId }: { label: string; value: number; tone?: 'warn'; testId?: string }) {
  return (
    <div className={`stat${tone ? ` ${tone}` : ''}`} data-testid={testId}>
      <span className="stat-value">{value.toLocaleString('en-US')}</span>
      <span className="stat-label">{label}</span>
    </div>
  );
}

function phaseWords(phase: ImportProgress['phase']): string {
  return { scanning: 'Scanning', importing: 'Importing', finishing: 'Finishing', done: 'Done', cancelled: 'Cancelled', failed: 'Failed' }[phase];
}

function newJobId(): string {
  const random = typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : Math.random().toString(36).slice(2);
  return `ui-${random}`;
}
