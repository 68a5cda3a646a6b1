import type { ImportResult } from '../../contract/contract';
import type { Command } from '../command';
import { EXIT } from '../exit-codes';
import { resolvePathArg } from '../paths';
import { ProgressBar } from '../progress-bar';
import { formatTable, plural } from '../text-table';

/** Long lists are cut in the readable output; --json always has all of them. */
const LIST_LIMIT = 20;

export const importFolderCommand: Command = {
  words: ['import'],
  args: ['project', 'folder'],
  optionsUsage: '[--labels-from-folders]',
  summary: 'Import (or incrementally re-import) a folder of images into a project',
  details: [
    '--labels-from-folders   the first sub-folder of each image is its class; without it every image arrives unlabeled',
    'Ctrl-C cancels the import cleanly and prints what was imported so far.',
  ],
  options: { 'labels-from-folders': { type: 'boolean' } },
  fields: { project: '<project>', folder: '<folder>' },
  async run({ positionals: [project, folder], values, client, stderr }) {
    const jobId = `cli-${process.pid}-${Date.now().toString(36)}`;
    const bar = new ProgressBar(stderr);
    const stopProgress = client().on('import.progress', (progress) => {
      if (progress.jobId === jobId) bar.update(progress);
    });
    // First Ctrl-C asks the import to stop at a consistent point; a second one quits at once.
    let cancelling = false;
    const onInterrupt = () => {
      if (cancelling) process.exit(EXIT.interrupted);
      cancelling = true;
      bar.clear();
      stderr.write('Cancelling the import... (press Ctrl-C again to quit at once)\n');
      client().call('import.cancel', { jobId }).catch(() => undefined);
    };
    process.on('SIGINT', onInterrupt);
    try {
      const result = await client().call('import.folder', {
        project: resolvePathArg(project),
        folder: resolvePathArg(folder),
        labelsFromFolders: values['labels-from-folders'] === true,
        jobId,
      });
      return { json: result, text: formatImportResult(result), exitCode: result.cancelled ? EXIT.interrupted : EXIT.ok };
    } finally {
      process.off('SIGINT', onInterrupt);
      stopProgress();
      bar.clear();
    }
  },
};

export function formatImportResult(r: ImportResult): string {
  const lines: string[] = [];
  const verb = r.cancelled ? 'Import cancelled after' : 'Imported';
  lines.push(`${verb} ${plural(r.imported, 'new image')} from ${r.folder} in ${r.elapsedSeconds.toFixed(1)} s (${r.imagesPerSecond.toFixed(1)} images/s)`);
  lines.push(
    `  seen ${r.seen} · unchanged ${r.unchanged} · updated ${r.updated} · duplicates ${r.duplicate} · rejected ${r.rejected} · missing ${r.missing}`,
  );
  if (r.classes.length > 0) {
    lines.push('', formatTable(['CLASS', 'IMAGES'], r.classes.map((c) => [c.name, c.count]), '  '));
  }
  if (r.rejections.length > 0) {
    lines.push('', `Rejected files (${r.rejections.length}):`);
    for (const f of r.rejections.slice(0, LIST_LIMIT)) lines.push(`  ${f.path}: ${f.reason}`);
    if (r.rejections.length > LIST_LIMIT) lines.push(`  ... and ${r.rejections.length - LIST_LIMIT} more (use --json for the full list)`);
  }
  if (r.duplicates.length > 0) {
    lines.push('', `Duplicates, not imported twice (${r.duplicates.length}):`);
    for (const d of r.duplicates.slice(0, LIST_LIMIT)) lines.push(`  ${d.path} = ${d.duplicateOf}`);
    if (r.duplicates.length > LIST_LIMIT) lines.push(`  ... and ${r.duplicates.length - LIST_LIMIT} more (use --json for the full list)`);
  }
  return lines.join('\n');
}
