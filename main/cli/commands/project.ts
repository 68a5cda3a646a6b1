import type { Command } from '../command';
import { resolvePathArg } from '../paths';
import { formatTable } from '../text-table';

export const projectCreate: Command = {
  words: ['project', 'create'],
  args: ['file'],
  optionsUsage: '[--name NAME]',
  summary: 'Create a new .effitune project file',
  details: ['--name NAME   display name (default: the file name)'],
  options: { name: { type: 'string' } },
  fields: { path: '<file>', name: '--name' },
  async run({ positionals: [file], values, client }) {
    const info = await client().call('project.create', { path: resolvePathArg(file), name: values.name as string | undefined });
    return { json: info, text: `Created project "${info.name}" at ${info.path}` };
  },
};

export const projectRename: Command = {
  words: ['project', 'rename'],
  args: ['file', 'name'],
  summary: "Change a project's display name (the file stays where it is)",
  fields: { project: '<file>', name: '<name>' },
  async run({ positionals: [file, name], client }) {
    const info = await client().call('project.rename', { project: resolvePathArg(file), name });
    return { json: info, text: `Renamed project ${info.path} to "${info.name}"` };
  },
};

export const projectList: Command = {
  words: ['project', 'list'],
  args: [],
  summary: 'List recently opened projects',
  async run({ client }) {
    const recent = await client().call('project.recent', {});
    if (recent.projects.length === 0) return { json: recent, text: 'No recent projects. Create one with: effitune project create <file>' };
    const rows = recent.projects.map((p) => [p.name, p.path, p.openedAt, p.exists ? '' : 'missing']);
    return { json: recent, text: formatTable(['NAME', 'PATH', 'OPENED', ''], rows) };
  },
};
