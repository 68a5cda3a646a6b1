import type { Client } from '../../contract/client';
import { ApiError, type CallOutput } from '../../contract/contract';
import type { Command } from '../command';
import { resolvePathArg } from '../paths';
import { plural } from '../text-table';

export const labelCommand: Command = {
  words: ['label'],
  args: ['project'],
  optionsUsage: '(--image PATH|ID [--image ...] (--class NAME | --unlabel) | --csv FILE)',
  summary: 'Label images: some by path or id, or many from a CSV (or JSON) file; undo with `effitune undo`',
  details: [
    '--image PATH|ID  an image of the project, by its file path or its id (repeat --image for several)',
    '--class NAME     the class to give them; a class that does not exist yet is created. --class "" clears the label',
    '--unlabel        clear the label of the images',
    '--csv FILE       a file with a header row path,class (or hash,class): paths absolute or relative to an imported folder;',
    '                 a .json file holds [{"path" or "hash", "class"}]. Unknown classes are created; unknown paths and',
    '                 bad rows are reported with their line, and do not stop the others. An empty class clears the label.',
    'Every call is one edit: `effitune undo <project>` takes it back.',
  ],
  options: {
    image: { type: 'string', multiple: true },
    class: { type: 'string' },
    unlabel: { type: 'boolean' },
    csv: { type: 'string' },
  },
  fields: { project: '<project>', file: '--csv', imageIds: '--image', class: '--class', name: '--class' },
  async run({ positionals: [projectArg], values, client }) {
    const project = resolvePathArg(projectArg)!;
    const images = (values.image as unknown as string[] | undefined) ?? [];
    const csv = values.csv as string | undefined;
    if (csv !== undefined && images.length > 0) throw new ApiError('invalid_input', 'give either --csv FILE or --image with --class, not both');
    if (csv !== undefined) {
      const result = await client().call('labels.import', { project, file: resolvePathArg(csv), createClasses: true });
      return { json: result, text: formatImport(result) };
    }
    if (images.length === 0) throw new ApiError('invalid_input', 'say which images to label: --image PATH|ID (repeatable) or --csv FILE');
    const className = values.unlabel === true ? '' : (values.class as string | undefined);
    if (className === undefined) throw new ApiError('invalid_input', '--class: give the class (--class NAME), or --unlabel (or --class "") to clear the label');
    if (values.unlabel === true && values.class !== undefined && String(values.class).trim() !== '') throw new ApiError('invalid_input', 'give either --class NAME or --unlabel, not both');
    const imageIds = await findImages(client(), project, images);
    const label = className.trim() === '' ? null : className;
    const result = await client().call('labels.set', { project, imageIds, class: label, createClass: true });
    const text = result.edit ? `${result.edit.summary[0].toUpperCase()}${result.edit.summary.slice(1)}.` : `Nothing to change: ${plural(imageIds.length, 'image')} already ${label === null ? 'unlabeled' : `labeled "${label}"`}.`;
    return { json: { ...result, imageIds, class: label }, text };
  },
};

/** Ids of the images given by id (digits) or by path (as typed, resolved against the working folder). */
async function findImages(client: Client, project: string, refs: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const ref of refs) {
    if (/^\d+$/.test(ref.trim())) {
      ids.push((await client.call('images.get', { project, id: Number(ref) })).id);
      continue;
    }
    const file = resolvePathArg(ref)!;
    let found: number | undefined;
    for (const status of ['ok', 'rejected', 'duplicate'] as const) {
      for (const missing of [false, true]) {
        const page = await client.call('images.list', { project, filter: { search: file, status, missing }, limit: 50 });
        found = page.items.find((i) => i.path === file)?.id;
        if (found !== undefined) break;
      }
      if (found !== undefined) break;
    }
    if (found === undefined) throw new ApiError('not_found', `--image: no image of this project has the path ${file}`);
    ids.push(found);
  }
  return ids;
}

function formatImport(r: CallOutput<'labels.import'>): string {
  const lines = [`${plural(r.labeled, 'image')} labeled from ${plural(r.rows, 'row')} (${r.unchanged} already so) in ${r.seconds.toFixed(2)} s`];
  if (r.createdClasses.length > 0) lines.push(`  New classes: ${r.createdClasses.map((c) => `"${c}"`).join(', ')}`);
  if (r.unknown.length > 0) {
    lines.push(`  ${plural(r.unknown.length, 'path')} not in the project:`);
    for (const u of r.unknown.slice(0, 20)) lines.push(`    line ${u.line}: ${u.key}`);
    if (r.unknown.length > 20) lines.push(`    ... and ${r.unknown.length - 20} more (--json lists all)`);
  }
  if (r.errors.length > 0) {
    lines.push(`  ${plural(r.errors.length, 'row')} could not be used:`);
    for (const e of r.errors.slice(0, 20)) lines.push(`    ${e.message}`);
    if (r.errors.length > 20) lines.push(`    ... and ${r.errors.length - 20} more (--json lists all)`);
  }
  if (r.edit) lines.push(`  Undo with: effitune undo <project>`);
  return lines.join('\n');
}
