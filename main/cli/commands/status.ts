import type { ProjectStatus } from '../../contract/contract';
import type { Command } from '../command';
import { resolvePathArg } from '../paths';
import { formatTable } from '../text-table';

export const statusCommand: Command = {
  words: ['status'],
  args: ['project'],
  summary: 'Totals of a project: images per class and split, rejected, duplicates, missing',
  fields: { project: '<project>' },
  async run({ positionals: [project], client }) {
    const status = await client().call('project.status', { project: resolvePathArg(project) });
    return { json: status, text: formatStatus(status) };
  },
};

export function formatStatus(s: ProjectStatus): string {
  const lines = [
    `Project "${s.project.name}"  ${s.project.path}`,
    `  ${s.images} usable images · ${s.labeled} labeled · ${s.unlabeled} unlabeled · ${s.rejected} rejected · ${s.duplicates} duplicates · ${s.missing} missing${s.excluded > 0 ? ` · ${s.excluded} excluded from training` : ''}`,
  ];
  if (s.classes.length > 0) {
    const rows = s.classes.map((c) => [c.name, c.count, c.bySplit.train, c.bySplit.val, c.bySplit.test, c.bySplit.none]);
    lines.push('', formatTable(['CLASS', 'IMAGES', 'TRAIN', 'VAL', 'TEST', 'UNSPLIT'], rows, '  '));
  } else {
    lines.push('', '  No classes yet.');
  }
  lines.push('', `  Splits: train ${s.splits.train} · val ${s.splits.val} · test ${s.splits.test} · unsplit ${s.splits.none}`);
  if (s.sources.length > 0) {
    lines.push('', '  Imported folders:');
    for (const src of s.sources) {
      const labels = src.labelsFromFolders ? 'labels from folders' : 'unlabeled';
      lines.push(`    ${src.folder} (${labels}; last import ${src.lastImportAt ?? 'never'})`);
    }
  }
  return lines.join('\n');
}
