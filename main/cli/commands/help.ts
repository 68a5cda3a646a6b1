import { ApiError } from '../../contract/contract';
import { usageOf, type Command } from '../command';
import { EXIT_CODE_HELP } from '../exit-codes';

export const HELP_HINT = 'Run "effitune help" for the list of commands.';

export function helpCommand(all: () => Command[]): Command {
  return {
    words: ['help'],
    args: ['command?'],
    summary: 'Show the commands, or the details of one command',
    withoutService: true,
    async run({ positionals }) {
      const commands = all();
      const topic = positionals.join(' ').trim();
      if (topic === '') {
        return { json: { commands: commands.map(describe) }, text: overview(commands) };
      }
      const matches = commands.filter((c) => c.words.join(' ') === topic || c.words[0] === topic);
      if (matches.length === 0) throw new ApiError('invalid_input', `unknown command "${topic}". ${HELP_HINT}`);
      return { json: { commands: matches.map(describe) }, text: matches.map(commandHelp).join('\n\n') };
    },
  };
}

function describe(c: Command) {
  return { command: c.words.join(' '), usage: usageOf(c), summary: c.summary, details: c.details ?? [] };
}

export function overview(commands: Command[]): string {
  const usages = commands.map((c) => usageOf(c).replace(/^effitune /, '').replace(/ \[--json\]$/, ''));
  const width = Math.max(...usages.map((u) => u.length));
  return [
    'Effitune: fine-tune EfficientNet image classifiers on your own image folders.',
    '',
    'Usage: effitune <command> [arguments] [--json]',
    '',
    'Commands:',
    ...commands.map((c, i) => `  ${usages[i].padEnd(width)}   ${c.summary}`),
    '',
    'Every command takes --json and then prints exactly one JSON object on stdout.',
    'effitune help <command> shows the options of a command.',
    'Projects and settings live in $EFFITUNE_HOME (default ~/.effitune).',
    '',
    'Exit codes:',
    ...EXIT_CODE_HELP.map((line) => `  ${line}`),
  ].join('\n');
}

export function commandHelp(c: Command): string {
  return [`Usage: ${usageOf(c)}`, '', c.summary, ...(c.details?.length ? ['', ...c.details.map((d) => `  ${d}`)] : [])].join('\n');
}
