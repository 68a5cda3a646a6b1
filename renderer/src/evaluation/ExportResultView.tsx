/**
 * What an export wrote: the folder (copy its path; in the desktop app, open it in the file manager),
 * the files and sizes, float32 against the quantized variant (size, test accuracy, agreement) and
 * the parity check.
 */
import { useEffect, useRef, useState, type RefObject } from 'react';
import type { ExportResult } from '../../../main/contract/calls-export';
import { errorMessage } from '../api/client-context';
import { formatBytes, formatPercent } from './eval-format';

/** The desktop bridge's answer (electron/preload.ts): opened, or why not in words. */
type OpenFolderAnswer = { ok: true } | { ok: false; message: string };

/**
 * The desktop bridge's "open this folder in the file manager", or null in browser mode: a web page
 * cannot open the user's file manager, so there the folder's path is copied instead.
 */
function openFolderCall(): ((dir: string) => Promise<OpenFolderAnswer>) | null {
  const bridge = window.effitune as { openFolder?: (dir: string) => Promise<OpenFolderAnswer> } | undefined;
  return bridge?.openFolder ?? null;
}

/** The clipboard API needs a secure context (127.0.0.1 and the desktop app are); elsewhere the path is selected and copied the old way. */
async function copyText(text: string, element: HTMLElement | null): Promise<void> {
  if (navigator.clipboard?.writeText) {
    await navigator.clipboard.writeText(text);
    return;
  }
  if (!element) throw new Error('the clipboard is not available here');
  window.getSelection()?.selectAllChildren(element);
  if (!document.execCommand('copy')) throw new Error('the browser refused to copy; the path is selected, press Ctrl+C');
}

const FEEDBACK_MS = 2500;

/** Copy the folder's path; in the desktop app also open the folder. Each says how it went beside the buttons. */
function ExportFolderActions({ dir, pathElement }: { dir: string; pathElement: RefObject<HTMLParagraphElement | null> }) {
  const openFolder = openFolderCall();
  const [feedback, setFeedback] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    if (!feedback?.ok) return;
    const timer = setTimeout(() => setFeedback(null), FEEDBACK_MS);
    return () => clearTimeout(timer);
  }, [feedback]);
  const copy = () =>
    copyText(dir, pathElement.current).then(
      () => setFeedback({ ok: true, text: 'Path copied' }),
      (err) => setFeedback({ ok: false, text: `Cannot copy the path: ${errorMessage(err)}` }),
    );
  const open = (call: (dir: string) => Promise<OpenFolderAnswer>) =>
    call(dir).then(
      (answer) => setFeedback(answer.ok ? null : { ok: false, text: `Cannot open the folder: ${answer.message}` }),
      (err) => setFeedback({ ok: false, text: `Cannot open the folder: ${errorMessage(err)}` }),
    );
  return (
    <div className="export-folder-actions">
      {openFolder && (
        <button type="button" className="button small" onClick={() => void open(openFolder)} data-testid="export-open-folder">
          Open folder
        </button>
      )}
      <button
        type="button"
        className="button small"
        onClick={() => void copy()}
        title={openFolder ? 'Copy the folder path' : 'Copy the folder path, to paste in your file manager or a terminal (a browser page cannot open folders)'}
        data-testid="export-copy-path"
      >
        Copy path
      </button>
      <span className={`small ${feedback?.ok === false ? 'inline-warning' : 'muted'}`} aria-live="polite" data-testid="export-folder-feedback">
        {feedback?.text ?? ''}
      </span>
    </div>
  );
}

const PRECISION_NAMES = { none: 'float32', float16: 'float16', uint8: 'uint8' } as const;

/** The model files (graph, weights) first: they are what the user came for; then the rest by name. */
function modelFilesFirst(files: ExportResult['files']): ExportResult['files'] {
  const isModel = (p: string) => /\.(onnx|bin)$|(^|\/)model\.json$/.test(p);
  return [...files].sort((a, b) => Number(isModel(b.path)) - Number(isModel(a.path)) || a.path.localeCompare(b.path));
}

export function ExportResultView({ result }: { result: ExportResult }) {
  const dirElement = useRef<HTMLParagraphElement>(null);
  return (
    <div className="export-result" data-testid="export-result" data-format={result.format}>
      <p>
        <strong>Exported</strong> {result.format === 'onnx' ? 'ONNX' : 'TF.js'}
        {result.quantize !== 'none' ? ` (${PRECISION_NAMES[result.quantize]} weights)` : ''} in {result.seconds.toFixed(1)} s
        {result.replaced ? ', replacing the folder that was there' : ''}:
      </p>
      <p className="mono wrap export-dir" ref={dirElement} data-testid="export-result-dir">
        {result.dir}
      </p>
      <ExportFolderActions dir={result.dir} pathElement={dirElement} />
      <h3>Precision</h3>
      <table className="table" data-testid="export-precisions">
        <thead>
          <tr>
            <th>Weights</th>
            <th className="num">Model size</th>
            <th className="num">Test accuracy</th>
            <th className="num" title="test images whose top-1 class equals the float32 model's">Agrees with float32</th>
          </tr>
        </thead>
        <tbody>
          {result.precisions.map((p) => (
            <tr key={p.quantize} data-testid={`export-precision-${p.quantize}`}>
              <td>{PRECISION_NAMES[p.quantize]}</td>
              <td className="num">{formatBytes(p.modelBytes)}</td>
              <td className="num">{formatPercent(p.testAccuracy)}</td>
              <td className="num">{formatPercent(p.agreement)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {result.parity && (
        <p className="small export-parity" data-testid="export-parity">
          Parity with the app's model on {result.parity.images} images: largest probability difference {result.parity.maxAbsDiff.toExponential(1)}, top-1 class{' '}
          {result.parity.top1Agree ? <span className="ok-text">identical</span> : <span className="inline-warning">differs on some images</span>}.
        </p>
      )}
      <h3>
        Files <span className="muted">({result.files.length}, {formatBytes(result.bytes)})</span>
      </h3>
      <div className="export-files-scroll">
        <table className="table" data-testid="export-files">
          <tbody>
            {modelFilesFirst(result.files).map((f) => (
              <tr key={f.path}>
                <td className="mono wrap">{f.path}</td>
                <td className="num">{formatBytes(f.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
