/** Where an export goes unless the user says otherwise: beside the project file, named after it, the run and the format. */
import type { ExportFormat, Quantization } from '../../../main/contract/calls-export';
import { baseName, joinPath, safeFileName } from '../paths';

export function defaultExportFolder(project: string, runId: number, format: ExportFormat, quantize: Quantization): string {
  const file = baseName(project);
  const dir = project.slice(0, project.length - file.length).replace(/[\\/]$/, '') || '.';
  const stem = file.replace(/\.effitune$/i, '');
  return joinPath(dir, safeFileName(`${stem}-run${runId}-${format}${quantize === 'none' ? '' : `-${quantize}`}`));
}

/** A job id the page picks, so it can follow export.progress for its own export only. */
export function newJobId(): string {
  return `export-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
