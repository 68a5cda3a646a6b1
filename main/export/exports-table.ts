/** The exports table (schema step 4 → 5): one row per finished export, with its full report. */
import fs from 'node:fs';
import type { ExportRecord, ExportResult } from '../contract/calls-export';
import type { Database } from '../project/database';

export function recordExport(db: Database, result: ExportResult, at: string): number {
  // the accuracy of the weights in the folder (the quantized ones when quantized)
  const exported = result.precisions.find((p) => p.quantize === result.quantize) ?? result.precisions[0];
  const info = db
    .prepare('INSERT INTO exports (run_id, at, format, quantize, dir, bytes, test_accuracy, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(result.runId, at, result.format, result.quantize, result.dir, result.bytes, exported?.testAccuracy ?? null, JSON.stringify(result));
  return Number(info.lastInsertRowid);
}

export function listExports(db: Database, runId?: number): ExportRecord[] {
  const rows = (
    runId === undefined
      ? db.prepare('SELECT id, run_id, at, format, quantize, dir, bytes, test_accuracy FROM exports ORDER BY id DESC').all()
      : db.prepare('SELECT id, run_id, at, format, quantize, dir, bytes, test_accuracy FROM exports WHERE run_id = ? ORDER BY id DESC').all(runId)
  ) as { id: number; run_id: number; at: string; format: ExportRecord['format']; quantize: ExportRecord['quantize']; dir: string; bytes: number; test_accuracy: number | null }[];
  return rows.map((r) => ({ id: r.id, runId: r.run_id, at: r.at, format: r.format, quantize: r.quantize, dir: r.dir, bytes: r.bytes, testAccuracy: r.test_accuracy, exists: fs.existsSync(r.dir) }));
}
