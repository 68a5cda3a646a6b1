/**
 * "Try an image": drop a file or pick one; its bytes go to eval.predictImage as base64 (the page
 * cannot hand the engine a path in browser mode) and the top classes come back as bars.
 */
import type { ProviderName } from '../../../main/contract/calls-inference';
import { useEffect, useState, type DragEvent } from 'react';
import { errorMessage, useClient } from '../api/client-context';
import type { CallOutput } from '../../../main/contract/contract';
import { formatPercent } from './eval-format';

type Prediction = CallOutput<'eval.predictImage'>;

/** The base64 payload of a file (the data: URL without its header). */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(new Error(`cannot read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

export function TryImagePanel({ project, runId, provider = null }: { project: string; runId: number; provider?: ProviderName | null }) {
  const client = useClient();
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [prediction, setPrediction] = useState<Prediction | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);

  useEffect(() => () => void (preview && URL.revokeObjectURL(preview)), [preview]);
  // Another run: the last answer belonged to the previous model.
  useEffect(() => setPrediction(null), [runId]);

  const predict = async (picked: File) => {
    setFile(picked);
    setPreview(URL.createObjectURL(picked));
    setPrediction(null);
    setProblem(null);
    setBusy(true);
    try {
      const dataBase64 = await readBase64(picked);
      setPrediction(await client.call('eval.predictImage', { project, runId, dataBase64, name: picked.name, top: 5, ...(provider ? { provider } : {}) }));
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const dropped = e.dataTransfer.files[0];
    if (dropped) void predict(dropped);
  };

  return (
    <div className="try-image" data-testid="try-image">
      <label
        className={`drop-zone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        {preview ? <img src={preview} alt={file?.name ?? 'the image tried'} className="try-preview" /> : <span className="drop-hint">Drop an image here</span>}
        <span className="muted small">or</span>
        <span className="button small">Choose a file…</span>
        <input
          type="file"
          accept="image/*"
          className="try-file-input"
          data-testid="try-image-input"
          onChange={(e) => {
            const picked = e.target.files?.[0];
            if (picked) void predict(picked);
            e.target.value = '';
          }}
        />
      </label>
      <div className="try-result">
        {busy && (
          <p className="muted">
            <span className="spinner" /> Predicting {file?.name}…
          </p>
        )}
        {problem && (
          <p className="inline-error" data-testid="try-image-error">
            Cannot predict {file?.name ?? 'the image'}: {problem}
          </p>
        )}
        {prediction && (
          <>
            <p className="small">
              <strong className="wrap">{file?.name}</strong> <span className="muted">· {prediction.width}×{prediction.height} px · {prediction.milliseconds.toFixed(0)} ms</span>
            </p>
            <ol className="prob-bars" data-testid="try-image-top">
              {prediction.top.map((t, i) => (
                <li key={t.className} className={i === 0 ? 'first' : ''} data-class={t.className}>
                  <span className="prob-name" title={t.className}>
                    {t.className}
                  </span>
                  <span className="prob-track">
                    <span className="prob-fill" style={{ width: `${Math.max(0.5, t.probability * 100)}%` }} />
                  </span>
                  <span className="prob-value">{formatPercent(t.probability)}</span>
                </li>
              ))}
            </ol>
          </>
        )}
        {!busy && !problem && !prediction && <p className="muted small">The run's model predicts the image with the same preprocessing as in training.</p>}
      </div>
    </div>
  );
}
