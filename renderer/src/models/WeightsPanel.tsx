/**
 * Pretrained weights of the selected model, in the Model tab: what the app's weights cache holds
 * for it, the published Keras ImageNet files to download (progress, cancel, resume of the partial
 * file, the published MD5 checked by the engine), and the import of a file the user already has
 * (a path, a folder chosen with Browse…, or a file dropped where the browser reveals its path).
 * Training then offers these weights in its setup (WeightsChoice).
 */
import { useCallback, useState, type DragEvent } from 'react';
import { useClient, errorMessage } from '../api/client-context';
import type { CallOutput } from '../../../main/contract/contract';
import type { PretrainedFile } from '../../../main/contract/calls-models';
import { BrowseButton } from '../components/BrowseButton';
import { FolderBrowser } from '../components/FolderBrowser';
import { cancelDownload, downloadKey, startDownload, useDownloads, type DownloadState } from './weights-downloads';
import { droppedPath, shortBytes, weightsLabel } from './weights-words';
import { useWeightsList } from './use-weights-list';
import './weights-panel.css';

type ImportState = { kind: 'idle' } | { kind: 'importing'; file: string } | { kind: 'done'; result: CallOutput<'weights.importFile'> } | { kind: 'failed'; message: string };

export function WeightsPanel({ variant, name, onChanged }: { variant: string; name: string; onChanged: () => void }) {
  const { list, problem, refresh } = useWeightsList();
  const changed = useCallback(() => {
    refresh();
    onChanged();
  }, [refresh, onChanged]);
  const local = list?.weights.filter((w) => w.variant === variant) ?? [];
  const published = list?.catalogue.filter((f) => f.variant === variant) ?? [];

  return (
    <section className="card weights-panel" data-testid="weights-panel" data-variant={variant}>
      <div className="panel-head">
        <h2>Pretrained weights · {name}</h2>
        {list && (
          <span className="muted small mono" title="the app's weights cache">
            {list.dir}
          </span>
        )}
      </div>
      <p className="muted small">
        Fine-tuning starts from weights trained on ImageNet: far better than a random start, and the only way head and top-block training can learn. They stay in the app's data folder and serve
        every project.
      </p>
      {problem && <p className="inline-error">Cannot read the weights cache: {problem}</p>}
      <div className="weights-columns">
        <div>
          <h3>On this machine</h3>
          {list === null ? (
            <p className="muted small">
              <span className="spinner" /> Reading the weights cache…
            </p>
          ) : local.length === 0 ? (
            <p className="muted small" data-testid="weights-local-none">
              None for {name} yet: download or import them, or train from scratch.
            </p>
          ) : (
            <ul className="weights-local" data-testid="weights-local">
              {local.map((w) => (
                <li key={w.id} data-testid="weights-local-entry" title={`${w.file}\nfrom ${w.origin}\nMD5 ${w.md5}`}>
                  <span className="weights-chip">{w.includeTop ? 'with top' : 'no top'}</span> {weightsLabel(w)} <span className="muted small">· {shortBytes(w.bytes)}</span>
                </li>
              ))}
            </ul>
          )}
          <h3>Download</h3>
          {published.length === 0 ? (
            <p className="muted small" data-testid="weights-none-published">
              No published weights exist for {name}: import a file trained for exactly this network (a .h5 in the Keras applications layout or a timm .safetensors).
            </p>
          ) : (
            <ul className="weights-downloads">
              {published.map((file) => (
                <DownloadRow key={file.fileName} file={file} onFinished={changed} />
              ))}
            </ul>
          )}
        </div>
        <ImportBox variant={variant} name={name} onImported={changed} />
      </div>
    </section>
  );
}

function DownloadRow({ file, onFinished }: { file: PretrainedFile; onFinished: () => void }) {
  const client = useClient();
  const state: DownloadState | undefined = useDownloads().get(downloadKey(file));
  const running = state?.kind === 'running';
  const id = `${file.includeTop ? 'top' : 'notop'}`;
  return (
    <li className="weights-download" data-testid={`weights-download-${id}`} data-state={state?.kind ?? (file.local ? 'local' : 'idle')}>
      <div className="weights-download-line">
        <span>
          <strong>{file.fileName}</strong> <span className="muted small">{file.includeTop ? 'with the 1000-class ImageNet classifier' : 'without classifier: all fine-tuning needs'}</span>
        </span>
        {file.local ? (
          <span className="ok-text small">here, checksum verified</span>
        ) : running ? (
          <button className="button small" disabled={state.cancelling} onClick={() => void cancelDownload(client, file).catch(() => undefined)} data-testid={`weights-cancel-${id}`}>
            {state.cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        ) : (
          <button className="button small primary" onClick={() => startDownload(client, file, onFinished)} data-testid={`weights-start-${id}`} title={file.url}>
            {state?.kind === 'cancelled' ? 'Resume download' : state?.kind === 'failed' ? 'Download again' : 'Download'}
          </button>
        )}
      </div>
      {state && <DownloadStatus state={state} file={file} />}
    </li>
  );
}

function DownloadStatus({ state, file }: { state: DownloadState; file: PretrainedFile }) {
  const id = `weights-status-${file.includeTop ? 'top' : 'notop'}`;
  if (state.kind === 'running') {
    const p = state.progress;
    const fraction = p?.totalBytes ? p.receivedBytes / p.totalBytes : null;
    const words = !p
      ? 'Starting…'
      : p.phase === 'connecting'
        ? `Connecting to ${new URL(p.url).host}…`
        : p.phase === 'verifying'
          ? 'Checking the MD5 checksum against the published one…'
          : `${shortBytes(p.receivedBytes)}${p.totalBytes ? ` of ${shortBytes(p.totalBytes)}` : ''} · ${shortBytes(Math.round(p.bytesPerSecond))}/s${p.resumedFrom > 0 ? ` · resumed after ${shortBytes(p.resumedFrom)}` : ''}`;
    return (
      <div className="weights-progress" data-testid={id}>
        <div className={`progress-bar${fraction === null ? ' indeterminate' : ''}`}>
          <div className="progress-fill" style={fraction === null ? undefined : { width: `${Math.round(fraction * 100)}%` }} />
        </div>
        <span className="small muted">{words}</span>
      </div>
    );
  }
  if (state.kind === 'done') {
    return (
      <p className="small ok-text" data-testid={id}>
        {state.alreadyPresent ? 'Already in the cache.' : `Downloaded in ${Math.round(state.elapsedSeconds)} s${state.resumedFrom > 0 ? `, resumed after ${shortBytes(state.resumedFrom)}` : ''}; the MD5 checksum equals the published one.`}
      </p>
    );
  }
  if (state.kind === 'cancelled') {
    return (
      <p className="small muted" data-testid={id}>
        Cancelled after {shortBytes(state.keptBytes)}. The partial file is kept: the next download resumes from there.
      </p>
    );
  }
  return (
    <div className="inline-error small" data-testid={id}>
      <p>Download failed: {state.message}</p>
      {state.offline && (
        <p data-testid="weights-offline-hint">
          This machine seems to be offline. Copy {file.fileName} from a machine with internet ({file.url}) and import it here on the right.
        </p>
      )}
    </div>
  );
}

function ImportBox({ variant, name, onImported }: { variant: string; name: string; onImported: () => void }) {
  const client = useClient();
  const [path, setPath] = useState('');
  const [browsing, setBrowsing] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [state, setState] = useState<ImportState>({ kind: 'idle' });

  const importFile = async (file: string) => {
    const trimmed = file.trim();
    if (!trimmed) return setState({ kind: 'failed', message: 'give the path of a .h5 or .safetensors file (or of the folder holding it)' });
    setState({ kind: 'importing', file: trimmed });
    try {
      const result = await client.call('weights.importFile', { file: trimmed, variant });
      setState({ kind: 'done', result });
      onImported();
    } catch (err) {
      setState({ kind: 'failed', message: errorMessage(err) });
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const dropped = droppedPath(e.dataTransfer);
    if (!dropped) {
      const nameOnly = e.dataTransfer.files[0]?.name;
      return setState({
        kind: 'failed',
        message: `the browser does not tell the page where ${nameOnly ?? 'a dropped file'} is on disk: type or paste its path, or use Browse… (the desktop app knows it)`,
      });
    }
    setPath(dropped);
    void importFile(dropped);
  };

  const busy = state.kind === 'importing';
  return (
    <div className="weights-import">
      <h3>Import a file</h3>
      <div
        className={`drop-zone weights-drop${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="weights-drop"
      >
        <strong>Drop a weights file here</strong>
        <span className="muted small">Keras applications .h5 (e.g. efficientnetb0_notop.h5) or timm .safetensors, for {name}</span>
      </div>
      <div className="input-row">
        <input value={path} onChange={(e) => setPath(e.target.value)} placeholder="/path/to/efficientnetb0_notop.h5, or the folder holding it" data-testid="weights-import-path" onKeyDown={(e) => e.key === 'Enter' && void importFile(path)} />
        <BrowseButton open={browsing} onToggleInPage={() => setBrowsing((b) => !b)} onPicked={setPath} testId="weights-import-browse" />
        <button className="button primary" disabled={busy} onClick={() => void importFile(path)} data-testid="weights-import">
          {busy ? <span className="spinner" /> : null}
          {busy ? 'Checking…' : 'Import'}
        </button>
      </div>
      {browsing && (
        <FolderBrowser
          pick="folder"
          onPick={(folder) => {
            setPath(folder);
            setBrowsing(false);
          }}
          testId="weights-folder-browser"
        />
      )}
      <span className="muted small">Browse… picks the folder that holds the file (the only .h5 or .safetensors in it).</span>
      <ImportResult state={state} />
    </div>
  );
}

function ImportResult({ state }: { state: ImportState }) {
  if (state.kind === 'idle') return null;
  if (state.kind === 'importing') {
    return (
      <p className="muted small" data-testid="weights-import-result">
        <span className="spinner" /> Checking {state.file}: building the network from its tensors…
      </p>
    );
  }
  if (state.kind === 'failed') {
    return (
      <p className="inline-error small" data-testid="weights-import-result" data-state="failed">
        Cannot import: {state.message}
      </p>
    );
  }
  const { weights, alreadyPresent, notes } = state.result;
  return (
    <div className="small" data-testid="weights-import-result" data-state="done">
      <p className="ok-text">
        {alreadyPresent ? 'Already in the cache' : 'Checked and copied into the cache'}: {weightsLabel(weights)}
      </p>
      {notes.length > 0 && (
        <ul className="muted">
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
