/** Earlier exports of the project (export.list), newest first; the run being viewed is highlighted. */
import { useEffect, useState } from 'react';
import { errorMessage, useClient } from '../api/client-context';
import type { ExportRecord } from '../../../main/contract/calls-export';
import { formatDate } from '../training/train-format';
import { formatBytes, formatPercent } from './eval-format';

export function ExportHistory({ project, runId, refreshKey }: { project: string; runId: number; refreshKey: number }) {
  const client = useClient();
  const [exports, setExports] = useState<ExportRecord[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    client.call('export.list', { project }).then(
      (r) => current && (setExports(r.exports), setProblem(null)),
      (err) => current && setProblem(errorMessage(err)),
    );
    return () => {
      current = false;
    };
  }, [client, project, refreshKey]);

  if (problem) return <p className="inline-error">Cannot list the exports: {problem}</p>;
  if (exports === null) return <p className="muted small">Reading the exports…</p>;
  if (exports.length === 0)
    return (
      <p className="muted small" data-testid="export-history-empty">
        No exports yet.
      </p>
    );
  return (
    <div className="export-history-scroll">
      <table className="table export-history" data-testid="export-history">
        <thead>
          <tr>
            <th>When</th>
            <th className="num">Run</th>
            <th>Format</th>
            <th>Weights</th>
            <th className="num">Size</th>
            <th className="num">Test acc</th>
            <th>Folder</th>
          </tr>
        </thead>
        <tbody>
          {exports.map((e) => (
            <tr key={e.id} className={e.runId === runId ? 'this-run' : ''} data-testid="export-history-row">
              <td>{formatDate(e.at)}</td>
              <td className="num">#{e.runId}</td>
              <td>{e.format === 'onnx' ? 'ONNX' : 'TF.js'}</td>
              <td>{e.quantize === 'none' ? 'float32' : e.quantize}</td>
              <td className="num">{formatBytes(e.bytes)}</td>
              <td className="num">{formatPercent(e.testAccuracy)}</td>
              <td className="mono wrap" title={e.dir}>
                {e.dir}
                {!e.exists && <span className="inline-warning small"> (folder gone)</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
