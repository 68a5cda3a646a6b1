/**
 * Labels in and out of the project, so the data is never locked in: import a CSV (header row
 * path,class or hash,class) or JSON file and read what it did (labeled, created classes, unknown
 * paths with their lines); export the labels as CSV / JSON, or the labeled images as one folder
 * per class (copies or links). Paths are typed or picked with the folder browser (in browser mode
 * the page cannot see the disk): pick the folder, then type the file name after it.
 */
import { useState } from 'react';
import { useClient, errorMessage } from '../api/client-context';
import type { CallOutput } from '../../../main/contract/contract';
import { BrowseButton } from '../components/BrowseButton';
import { FolderBrowser } from '../components/FolderBrowser';
import { plural } from './ClassManager';
import { baseName, joinPath, parentDir } from '../paths';

type Tab = 'import' | 'export' | 'folders';
type ImportResult = CallOutput<'labels.import'>;

export function LabelFilesDialog({ project, startFolder, onClose, onChanged }: { project: string; startFolder?: string; onClose: () => void; onChanged: () => void }) {
  const [tab, setTab] = useState<Tab>('import');
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="dialog label-files" role="dialog" aria-label="Import and export labels" data-testid="label-files-dialog" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <div className="dialog-head">
          <h2>Labels in and out</h2>
          <button className="icon-button" onClick={onClose} aria-label="Close" data-testid="label-files-close">
            ×
          </button>
        </div>
        <div className="segmented" role="tablist">
          {(
            [
              ['import', 'Import labels'],
              ['export', 'Export labels'],
              ['folders', 'Export class folders'],
            ] as const
          ).map(([key, title]) => (
            <button key={key} role="tab" aria-selected={tab === key} className={tab === key ? 'active' : ''} onClick={() => setTab(key)} data-testid={`label-files-tab-${key}`}>
              {title}
            </button>
          ))}
        </div>
        {tab === 'import' && <ImportLabels project={project} startFolder={startFolder} onChanged={onChanged} />}
        {tab === 'export' && <ExportLabels project={project} startFolder={startFolder} />}
        {tab === 'folders' && <ExportFolders project={project} startFolder={startFolder} />}
      </div>
    </div>
  );
}

/** A path field with Browse…: the browser picks a folder; a file name typed after it is kept. */
function PathField({ label, value, onChange, placeholder, fileName, testId, startFolder }: { label: string; value: string; onChange: (v: string) => void; placeholder: string; fileName?: string; testId: string; startFolder?: string }) {
  const [browsing, setBrowsing] = useState(false);
  const picked = (folder: string) => {
    setBrowsing(false);
    onChange(fileName ? joinPath(folder, fileName) : folder);
  };
  return (
    <>
      <label className="field">
        <span>{label}</span>
        <div className="input-row">
          <input value={value} onChange={(e) => onChange(e.target.value)} placeholder={placeholder} data-testid={`${testId}-input`} />
          <BrowseButton open={browsing} onToggleInPage={() => setBrowsing((b) => !b)} onPicked={picked} testId={`${testId}-browse`} />
        </div>
      </label>
      {browsing && <FolderBrowser start={parentDir(value.trim()) || startFolder} pick="folder" onPick={picked} testId={`${testId}-browser`} />}
    </>
  );
}

function ImportLabels({ project, startFolder, onChanged }: { project: string; startFolder?: string; onChanged: () => void }) {
  const client = useClient();
  const [file, setFile] = useState('');
  const [createClasses, setCreateClasses] = useState(true);
  const { busy, error, result, run: start } = useFileAction<ImportResult>();
  const run = () =>
    start(async () => {
      const imported = await client.call('labels.import', { project, file: file.trim(), createClasses });
      onChanged();
      return imported;
    });

  return (
    <form
      className="label-files-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (file.trim()) void run();
      }}
    >
      <PathField label="CSV or JSON file" value={file} onChange={setFile} placeholder="/path/to/labels.csv" fileName={baseName(file.trim()) || 'labels.csv'} testId="label-import-file" startFolder={startFolder} />
      <p className="muted small">CSV: a header row <code>path,class</code> (or <code>hash,class</code>). JSON: <code>[{'{'}"path": …, "class": …{'}'}]</code>. An empty class removes the label. One undo step.</p>
      <label className="checkbox">
        <input type="checkbox" checked={createClasses} onChange={(e) => setCreateClasses(e.target.checked)} /> Create classes the file names that do not exist yet
      </label>
      {error && (
        <p className="inline-error" data-testid="label-import-error">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        <button className="button primary" type="submit" disabled={busy || !file.trim()} data-testid="label-import-start">
          {busy && <span className="spinner" />} Import labels
        </button>
      </div>
      {result && (
        <div className="label-import-result" data-testid="label-import-result">
          <div className="stat-row">
            <Stat value={result.labeled} label="labeled" testId="label-import-labeled" />
            <Stat value={result.unchanged} label="unchanged" />
            <Stat value={result.createdClasses.length} label="new classes" />
            <Stat value={result.unknown.length} label="unknown paths" warn={result.unknown.length > 0} testId="label-import-unknown-count" />
            <Stat value={result.errors.length} label="bad rows" warn={result.errors.length > 0} />
          </div>
          <p className="muted small">
            {plural(result.rows, 'row')} read in {result.seconds.toFixed(2)} s{result.createdClasses.length > 0 ? `; created ${result.createdClasses.join(', ')}` : ''}.
          </p>
          {result.unknown.length > 0 && (
            <LineList title={`${plural(result.unknown.length, 'path')} not in the project (skipped)`} rows={result.unknown.map((u) => [u.line, u.key])} testId="label-import-unknown" />
          )}
          {result.errors.length > 0 && <LineList title={`${plural(result.errors.length, 'row')} could not be read`} rows={result.errors.map((e) => [e.line, e.message])} testId="label-import-errors" />}
        </div>
      )}
    </form>
  );
}

function ExportLabels({ project, startFolder }: { project: string; startFolder?: string }) {
  const client = useClient();
  const [file, setFile] = useState(startFolder ? joinPath(startFolder, 'labels.csv') : '');
  const [force, setForce] = useState(false);
  const { busy, error, result: done, run: start } = useFileAction<CallOutput<'labels.export'>>();
  const run = () => start(() => client.call('labels.export', { project, file: file.trim(), force }));
  return (
    <form
      className="label-files-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (file.trim()) void run();
      }}
    >
      <PathField label="File to write (.csv or .json)" value={file} onChange={setFile} placeholder="/path/to/labels.csv" fileName={baseName(file.trim()) || 'labels.csv'} testId="label-export-file" startFolder={startFolder} />
      <p className="muted small">Every labeled image: path, hash, class and split.</p>
      <label className="checkbox">
        <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> Replace the file if it exists
      </label>
      {error && <p className="inline-error">{error}</p>}
      <div className="dialog-actions">
        <button className="button primary" type="submit" disabled={busy || !file.trim()} data-testid="label-export-start">
          {busy && <span className="spinner" />} Export labels
        </button>
      </div>
      {done && (
        <p className="muted" data-testid="label-export-result">
          Wrote {plural(done.rows, 'row')} to <span className="mono wrap">{done.file}</span>.
        </p>
      )}
    </form>
  );
}

function ExportFolders({ project, startFolder }: { project: string; startFolder?: string }) {
  const client = useClient();
  const [out, setOut] = useState('');
  const [mode, setMode] = useState<'copy' | 'link'>('copy');
  const [bySplit, setBySplit] = useState(false);
  const [force, setForce] = useState(false);
  const { busy, error, result: done, run: start } = useFileAction<CallOutput<'labels.exportFolders'>>();
  const run = () => start(() => client.call('labels.exportFolders', { project, out: out.trim(), mode, bySplit, force }));
  return (
    <form
      className="label-files-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (out.trim()) void run();
      }}
    >
      <PathField label="Folder to write" value={out} onChange={setOut} placeholder="/path/to/dataset" testId="label-folders-out" startFolder={startFolder} />
      <div className="segmented">
        <button type="button" className={mode === 'copy' ? 'active' : ''} onClick={() => setMode('copy')}>
          Copy files
        </button>
        <button type="button" className={mode === 'link' ? 'active' : ''} onClick={() => setMode('link')}>
          Symbolic links
        </button>
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={bySplit} onChange={(e) => setBySplit(e.target.checked)} /> One folder per split (<code>train/cat/…</code>)
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> Write into a folder that is not empty
      </label>
      {error && <p className="inline-error">{error}</p>}
      <div className="dialog-actions">
        <button className="button primary" type="submit" disabled={busy || !out.trim()} data-testid="label-folders-start">
          {busy && <span className="spinner" />} Export class folders
        </button>
      </div>
      {done && (
        <div data-testid="label-folders-result">
          <p className="muted">
            {plural(done.images, 'image')} in {plural(done.classes, 'class folder')} under <span className="mono wrap">{done.dir}</span>.
          </p>
          {done.skipped.length > 0 && <LineList title={`${plural(done.skipped.length, 'image')} skipped`} rows={done.skipped.map((s) => [s.path, s.reason])} testId="label-folders-skipped" />}
        </div>
      )}
    </form>
  );
}

/** A form's one call: busy while it runs, its error in words, or its result (each run starts clean). */
function useFileAction<T>() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<T | null>(null);
  const run = async (work: () => Promise<T>) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await work());
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, result, run };
}

function Stat({ value, label, warn, testId }: { value: number; label: string; warn?: boolean; testId?: string }) {
  return (
    <div className={`stat${warn ? ' warn' : ''}`} data-testid={testId} data-value={value}>
      <span className="stat-value">{value.toLocaleString('en-US')}</span>
      <span className="stat-label">{label}</span>
    </div>
  );
}

const SHOWN_LINES = 200;

function LineList({ title, rows, testId }: { title: string; rows: [string | number, string][]; testId: string }) {
  return (
    <details className="summary-list" open data-testid={testId}>
      <summary>{title}</summary>
      <table className="table small">
        <tbody>
          {rows.slice(0, SHOWN_LINES).map(([a, b], i) => (
            <tr key={i}>
              <td className="num muted">{typeof a === 'number' ? `line ${a}` : <span className="mono wrap">{a}</span>}</td>
              <td className="mono wrap">{b}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > SHOWN_LINES && <p className="muted small">… and {rows.length - SHOWN_LINES} more</p>}
    </details>
  );
}
