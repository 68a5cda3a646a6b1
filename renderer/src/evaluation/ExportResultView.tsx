/** What an export wrote: the folder, the files and sizes, float32 against the quantized variant (size, test accuracy, agreement) and the parity check. */
import type { ExportResult } from '../../../main/contract/calls-export';
import { formatBytes, formatPercent } from './eval-format';

const PRECISION_NAMES = { none: 'float32', float16: 'float16', uint8: 'uint8' } as const;

/** The model files (graph, weights) first: they are what the user came for; then the rest by name. */
function modelFilesFirst(files: ExportResult['files']): ExportResult['files'] {
  const isModel = (p: string) => /\.(onnx|bin)$|(^|\/)model\.json$/.test(p);
  return [...files].sort((a, b) => Number(isModel(b.path)) - Number(isModel(a.path)) || a.path.localeCompare(b.path));
}

export function ExportResultView({ result }: { result: ExportResult }) {
  return (
    <div className="export-result" data-testid="export-result" data-format={result.format}>
      <p>
        <strong>Exported</strong> {result.format === 'onnx' ? 'ONNX' : 'TF.js'}
        {result.quantize !== 'none' ? ` (${PRECISION_NAMES[result.quantize]} weights)` : ''} in {result.seconds.toFixed(1)} s
        {result.replaced ? ', replacing the folder that was there' : ''}:
      </p>
      <p className="mono wrap export-dir" data-testid="export-result-dir">
        {result.dir}
      </p>
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
