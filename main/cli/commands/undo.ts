import type { EditInfo } from '../../contract/calls-labels';
import type { Command } from '../command';
import { resolvePathArg } from '../paths';
import { formatTable } from '../text-table';

export const undoCommand: Command = {
  words: ['undo'],
  args: ['project'],
  summary: 'Undo the last labeling edit of a project (labels, classes, merges, splits moved by hand, label imports)',
  fields: { project: '<project>' },
  async run({ positionals: [project], client }) {
    const result = await client().call('edits.undo', { project: resolvePathArg(project) });
    return { json: result, text: result.edit ? `Undone: ${result.edit.summary}` : 'Nothing to undo.' };
  },
};

export const redoCommand: Command = {
  words: ['redo'],
  args: ['project'],
  summary: 'Redo the last undone labeling edit of a project',
  fields: { project: '<project>' },
  async run({ positionals: [project], client }) {
    const result = await client().call('edits.redo', { project: resolvePathArg(project) });
    return { json: result, text: result.edit ? `Redone: ${result.edit.summary}` : 'Nothing to redo.' };
  },
};

export const editsCommand: Command = {
  words: ['edits'],
  args: ['project'],
  optionsUsage: '[--limit N]',
  summary: 'The undo/redo journal of a project, newest first',
  options: { limit: { type: 'string' } },
  fields: { project: '<project>', limit: '--limit' },
  async run({ positionals: [project], values, client }) {
    const limit = values.limit === undefined ? undefined : Number.isFinite(Number(values.limit)) ? Number(values.limit) : values.limit;
    const result = await client().call('edits.list', { project: resolvePathArg(project), limit: limit as number | undefined });
    return { json: result, text: formatEdits(result.edits) };
  },
};

function formatEdits(edits: EditInfo[]): string {
  if (edits.length === 0) return 'No edits yet.';
  return formatTable(['#', 'WHEN', 'EDIT', 'STATE'], edits.map((e) => [e.id, e.at.replace('T', ' ').slice(0, 19), e.summary, e.undone ? 'undone' : '']));
}
