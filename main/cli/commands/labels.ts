import type { Command } from '../command';
import { resolvePathArg } from '../paths';
import { fromFlags } from '../user-input';
import { plural } from '../text-table';

export const labelsExport: Command = {
  words: ['labels', 'export'],
  args: ['project'],
  optionsUsage: '--out FILE.csv|FILE.json [--force]',
  summary: 'Write every labeled image (path, hash, class, split) to a CSV or JSON file',
  details: ['--out FILE   .csv (header path,hash,class,split) or .json; it imports back with `effitune label <project> --csv FILE`', '--force      overwrite the file'],
  options: { out: { type: 'string' }, force: { type: 'boolean' } },
  fields: { project: '<project>', file: '--out' },
  async run({ positionals: [project], values, client }) {
    const result = await client().call('labels.export', fromFlags({ project: resolvePathArg(project), file: resolvePathArg(values.out as string | undefined), force: values.force === true }));
    return { json: result, text: `Wrote ${plural(result.rows, 'labeled image')} to ${result.file}` };
  },
};

export const labelsExportFolders: Command = {
  words: ['labels', 'export-folders'],
  args: ['project'],
  optionsUsage: '--out DIR [--link] [--by-split] [--force]',
  summary: 'Export the labeled images as one folder per class (copies, or links to the originals)',
  details: [
    '--out DIR     the folder to write: DIR/<class>/<file>',
    '--by-split    DIR/<train|val|test|unsplit>/<class>/<file>',
    '--link        symbolic links to the original files instead of copies',
    '--force       write into a folder that is not empty',
    'Two files of a class with the same name become name.jpg and name-2.jpg; files gone from disk are listed as skipped.',
  ],
  options: { out: { type: 'string' }, link: { type: 'boolean' }, 'by-split': { type: 'boolean' }, force: { type: 'boolean' } },
  fields: { project: '<project>', out: '--out' },
  async run({ positionals: [project], values, client }) {
    const result = await client().call('labels.exportFolders', fromFlags({
      project: resolvePathArg(project),
      out: resolvePathArg(values.out as string | undefined),
      mode: values.link === true ? 'link' : 'copy',
      bySplit: values['by-split'] === true,
      force: values.force === true,
    }));
    const lines = [`${values.link === true ? 'Linked' : 'Copied'} ${plural(result.images, 'image')} of ${plural(result.classes, 'class', 'classes')} into ${result.dir}`];
    if (result.skipped.length > 0) lines.push(`  ${plural(result.skipped.length, 'image')} skipped:`, ...result.skipped.slice(0, 20).map((s) => `    ${s.path}: ${s.reason}`));
    return { json: result, text: lines.join('\n') };
  },
};
