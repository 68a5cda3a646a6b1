import { ApiError } from '../../contract/contract';
import { usageOf, type Command } from '../command';
import { EXIT_CODE_HELP } from '../exit-codes';
import { textWidth, wrapText, wrapTokens } from '../text-table';

export const HELP_HINT = 'Run "effitune help" for the list of commands.';

/** Command names longer than this get their summary on the next line, so one long name does not push every summary right. */
const NAME_COLUMN = 30;
const GAP = '   ';
/** Summaries beside the names need this many columns; a narrower terminal gets them below the names. */
const MIN_SUMMARY_ROOM = 40;
const STACKED_INDENT = '      ';

const longestWord = (text: string) => Math.max(0, ...text.split(/\s+/).map((w) => w.length));

export function helpCommand(all: () => Command[]): Command {
  return {
    words: ['help'],
    args: ['command?'],
    summary: 'Show the commands, or the details of one command',
    withoutService: true,
    async run({ positionals, stdout }) {
      const commands = all();
      const width = textWidth(stdout as { isTTY?: boolean; columns?: number });
      const topic = positionals.join(' ').trim();
      if (topic === '') {
        return { json: { commands: commands.map(describe) }, text: overview(commands, width) };
      }
      const matches = commands.filter((c) => c.words.join(' ') === topic || c.words[0] === topic);
      if (matches.length === 0) throw new ApiError('invalid_input', `unknown command "${topic}". ${HELP_HINT}`);
      return { json: { commands: matches.map(describe) }, text: matches.map((c) => commandHelp(c, width)).join('\n\n') };
    },
  };
}

function describe(c: Command) {
  return { command: c.words.join(' '), usage: usageOf(c), summary: c.summary, details: c.details ?? [] };
}

/** A command as the overview lists it: its words and arguments; its options are in `effitune help <command>`. */
function commandName(c: Command): string {
  return usageOf({ ...c, optionsUsage: undefined }).replace(/^effitune /, '').replace(/ \[--json\]$/, '');
}

/**
 * Every command with its summary, in lines of at most `width` characters (default: the terminal's,
 * else 80): names in a column with the summaries beside them, or, when that leaves the summaries
 * too little room, each summary on the line below its name.
 */
export function overview(commands: Command[], width = textWidth(process.stdout)): string {
  const names = commands.map(commandName);
  const column = Math.min(NAME_COLUMN, Math.max(...names.map((n) => n.length)));
  const beside = ' '.repeat(2 + column + GAP.length);
  const room = width - beside.length;
  const sideBySide = room >= MIN_SUMMARY_ROOM && commands.every((c) => longestWord(c.summary) <= room);
  const rows = commands.flatMap((c, i) => {
    if (sideBySide && names[i].length <= column) return wrapText(c.summary, width, `  ${names[i].padEnd(column)}${GAP}`, beside);
    const below = sideBySide ? beside : STACKED_INDENT;
    return [`  ${names[i]}`, ...wrapText(c.summary, width, below)];
  });
  return [
    ...wrapText('Effitune: fine-tune EfficientNet image classifiers on your own image folders.', width),
    '',
    'Usage: effitune <command> [arguments] [--json]',
    '',
    'Commands:',
    ...rows,
    '',
    ...wrapText('Every command takes --json and then prints exactly one JSON object on stdout.', width),
    ...wrapText('effitune help <command> shows the options of a command.', width),
    ...wrapText('Projects and settings live in $EFFITUNE_HOME (default ~/.effitune).', width),
    '',
    'Exit codes:',
    ...EXIT_CODE_HELP.flatMap((line) => wrapText(line, width, '  ', '      ')),
  ].join('\n');
}

/** One command's usage, summary and details, in lines of at most `width` characters. */
export function commandHelp(c: Command, width = textWidth(process.stdout)): string {
  const command = `effitune ${c.words.join(' ')} `;
  const prefix = `Usage: ${command}`;
  const usage = wrapTokens(usageGroups(usageOf(c).slice(command.length), width - prefix.length), width, prefix, ' '.repeat(prefix.length));
  return [...usage, '', ...wrapText(c.summary, width), ...(c.details?.length ? ['', ...c.details.flatMap((d) => detailLines(d, width))] : [])].join('\n');
}

/**
 * The usage's words, a bracketed group ("[--out DIR [--force]]", "(--class NAME | --unlabel)")
 * kept as one token so a line never breaks inside it, unless the group alone is wider than a line.
 */
function usageGroups(usage: string, room: number): string[] {
  const groups: string[] = [];
  let current: string[] = [];
  let depth = 0;
  for (const word of usage.split(' ').filter(Boolean)) {
    current.push(word);
    for (const ch of word) {
      if (ch === '[' || ch === '(') depth++;
      else if (ch === ']' || ch === ')') depth--;
    }
    if (depth <= 0) {
      const group = current.join(' ');
      groups.push(...(group.length > room ? current : [group]));
      current = [];
      depth = 0;
    }
  }
  if (current.length > 0) groups.push(...current);
  return groups;
}

/**
 * A detail line, wrapped: "--val F        validation fraction ..." continues under its
 * description; a line that starts indented (a continuation written by hand) keeps its indent.
 */
function detailLines(detail: string, width: number): string[] {
  const option = /^(\S+(?: \S+)*?\s{2,})(\S.*)$/.exec(detail);
  if (option) {
    const hang = 2 + option[1].length;
    // A word too long for the description column (a list without spaces) moves the continuation left.
    const rest = hang <= width / 2 && hang + longestWord(option[2]) <= width ? ' '.repeat(hang) : STACKED_INDENT;
    return wrapText(option[2], width, `  ${option[1]}`, rest);
  }
  const indent = `  ${/^\s*/.exec(detail)![0]}`;
  return wrapText(detail, width, indent, detail.startsWith(' ') ? indent : `${indent}  `);
}
