import type { ClassInfo } from '../../contract/calls-labels';
import { ApiError } from '../../contract/contract';
import type { Command } from '../command';
import { resolvePathArg } from '../paths';
import { formatTable, plural } from '../text-table';

const ACTIONS: Record<string, { names: string; count: number | 'any' }> = {
  list: { names: '', count: 0 },
  add: { names: '<name>', count: 1 },
  rename: { names: '<old> <new>', count: 2 },
  recolor: { names: '<name> <#hex>', count: 2 },
  merge: { names: '<from> <into>', count: 2 },
  delete: { names: '<name>', count: 1 },
  reorder: { names: '<name>...', count: 'any' },
};

export const classesCommand: Command = {
  words: ['classes'],
  args: ['project', 'action?', 'names...?'],
  optionsUsage: '[list | add <name> [--color #hex] | rename <old> <new> | recolor <name> <#hex> | merge <from> <into> | delete <name> [--yes] | reorder <name>...]',
  summary: 'List, add, rename, recolour, merge, delete or reorder the classes of a project',
  details: [
    'list                 every class in order with its image count (the default)',
    'add <name>           a new class; --color #hex picks its colour (default: one no class uses yet)',
    'rename <old> <new>   names are unique ignoring case, any language',
    'recolor <name> <#hex>',
    'merge <from> <into>  every image of <from> goes to <into>, and <from> is removed',
    'delete <name>        its images become unlabeled; a class with images needs --yes',
    'reorder <name>...    every class in the new order (number keys in the app follow it)',
    'Every change is one edit: `effitune undo <project>` takes it back.',
  ],
  options: { color: { type: 'string' }, yes: { type: 'boolean' } },
  fields: { project: '<project>', name: '<name>', color: '--color', class: '<name>', from: '<from>', into: '<into>', order: '<name>...' },
  async run({ positionals: [projectArg, action = 'list', ...names], values, client }) {
    const project = resolvePathArg(projectArg)!;
    const spec = ACTIONS[action];
    if (!spec) throw new ApiError('invalid_input', `unknown classes action "${action}"; known: ${Object.keys(ACTIONS).join(', ')}`);
    if (spec.count !== 'any' && names.length !== spec.count) {
      throw new ApiError('invalid_input', `classes ${action} takes ${spec.count === 0 ? 'no names' : spec.names}${names.length > spec.count ? `; unexpected "${names[spec.count]}"` : ''}`);
    }
    if (values.color !== undefined && action !== 'add') throw new ApiError('invalid_input', `--color goes with "classes add"; to change a colour use: classes recolor <name> <#hex>`);
    const s = client();
    switch (action) {
      case 'list': {
        const { classes } = await s.call('classes.list', { project });
        return { json: { classes }, text: formatClasses(classes) };
      }
      case 'add': {
        const r = await s.call('classes.create', { project, name: names[0], color: values.color as string | undefined });
        return { json: r, text: `Created class "${r.class.name}" (${r.class.color}).` };
      }
      case 'rename': {
        const r = await s.call('classes.rename', { project, class: names[0], name: names[1] });
        return { json: r, text: r.edit ? `Renamed: ${r.edit.summary.replace(/^rename /, '')}.` : `Class "${r.class.name}" already has that name.` };
      }
      case 'recolor': {
        const r = await s.call('classes.recolor', { project, class: names[0], color: names[1] });
        return { json: r, text: `Class "${r.class.name}" is ${r.class.color}.` };
      }
      case 'merge': {
        const r = await s.call('classes.merge', { project, from: names[0], into: names[1] });
        return { json: r, text: `Merged: ${plural(r.moved, 'image')} moved into "${r.class.name}", which now has ${plural(r.class.count, 'image')}.` };
      }
      case 'delete': {
        const { classes } = await s.call('classes.list', { project });
        const target = classes.find((c) => c.name.normalize('NFC').toLocaleLowerCase() === names[0].trim().normalize('NFC').toLocaleLowerCase());
        if (target && target.count > 0 && values.yes !== true) {
          throw new ApiError('invalid_input', `class "${target.name}" has ${plural(target.count, 'image')}, which would become unlabeled; run again with --yes to delete it (undo with effitune undo)`);
        }
        const r = await s.call('classes.delete', { project, class: names[0] });
        return { json: r, text: `Deleted: ${r.edit!.summary.replace(/^delete /, '')}.` };
      }
      default: {
        const r = await s.call('classes.reorder', { project, order: names });
        return { json: r, text: formatClasses(r.classes) };
      }
    }
  },
};

function formatClasses(classes: ClassInfo[]): string {
  if (classes.length === 0) return 'No classes yet.';
  return formatTable(['#', 'CLASS', 'IMAGES', 'COLOUR'], classes.map((c, i) => [i + 1, c.name, c.count, c.color]));
}
