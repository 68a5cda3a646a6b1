/**
 * The `effitune` command line: finds the command in the table, parses its options with
 * util.parseArgs, runs it with the contract's typed client over a service in this process (which
 * validates every input with the contract) and prints either a readable summary or, with --json,
 * exactly one JSON object on stdout. This is the CLI's one place that makes a Service.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiError, toErrorShape } from '../contract/contract';
import type { Client } from '../contract/client';
import type { Service } from '../service/service';
import { inProcessClient } from '../service/in-process-client';
import { usageOf, type Command, type CommandInput, type OtherDoors } from './command';
import { COMMANDS } from './commands';
import { commandHelp, HELP_HINT, overview } from './commands/help';
import { EXIT, exitCodeOf } from './exit-codes';

export interface CliStreams {
  stdout: CommandInput['stdout'];
  stderr: CommandInput['stderr'];
}

/** A mistake in how the command was typed (as opposed to a value the contract rejected). */
class UsageError extends ApiError {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super('invalid_input', message);
  }
}

export function appVersion(): string {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The command named by the first words of argv (longest match), and the arguments after them. */
export function findCommand(argv: string[], commands: Command[] = COMMANDS): { command: Command; rest: string[] } {
  let best: Command | undefined;
  for (const c of commands) {
    const matches = c.words.every((w, i) => argv[i] === w);
    if (matches && (!best || c.words.length > best.words.length)) best = c;
  }
  if (best) return { command: best, rest: argv.slice(best.words.length) };
  const group = commands.filter((c) => c.words.length > 1 && c.words[0] === argv[0]);
  if (group.length > 0) {
    const known = group.map((c) => c.words.slice(1).join(' ')).join(', ');
    const sub = argv[1];
    const problem = sub === undefined || sub.startsWith('-') ? 'needs a sub-command' : `has no sub-command "${sub}"`;
    throw new UsageError(`"${argv[0]}" ${problem}; known: ${known}`);
  }
  throw new UsageError(`unknown command "${argv[0]}". ${HELP_HINT}`);
}

export function parseCommandArgs(command: Command, rest: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(rest, command.options ?? {}),
      options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message, command);
  }
  const { json, help, ...values } = parsed.values as Record<string, string | boolean | undefined>;
  const required = command.args.filter((a) => !a.endsWith('?'));
  if (!help && parsed.positionals.length < required.length) {
    throw new UsageError(`missing <${required[parsed.positionals.length]}>`, command);
  }
  // help takes a topic of several words ("help project create"), and a last argument named
  // "name..." takes any number of values (infer's images); every other command is strict.
  const variadic = /\.\.\.\??$/.test(command.args.at(-1) ?? '');
  if (command.words[0] !== 'help' && !variadic && parsed.positionals.length > command.args.length) {
    throw new UsageError(`unexpected argument "${parsed.positionals[command.args.length]}"`, command);
  }
  return { values, positionals: parsed.positionals, json: json === true, help: help === true };
}

/**
 * `--phi -3`: util.parseArgs reads "-3" as an option, not as the value of --phi. A negative number
 * after an option that takes a value is its value, so it is joined as `--phi=-3`.
 */
function joinNegativeValues(args: string[], options: NonNullable<Command['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : null;
    if (name !== null && options[name]?.type === 'string' && /^-(\d|\.\d)/.test(args[i + 1] ?? '')) {
      out.push(`${args[i]}=${args[++i]}`);
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

export async function runCli(
  argv: string[],
  streams: CliStreams = { stdout: process.stdout, stderr: process.stderr },
  doors: OtherDoors = {},
): Promise<number> {
  const { stdout, stderr } = streams;
  const endOfOptions = argv.indexOf('--');
  const wantsJson = (endOfOptions < 0 ? argv : argv.slice(0, endOfOptions)).includes('--json');
  const print = (json: unknown, text: string) => stdout.write((wantsJson ? JSON.stringify(json) : text) + '\n');

  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    print({ commands: COMMANDS.map((c) => ({ command: c.words.join(' '), usage: usageOf(c), summary: c.summary })) }, overview(COMMANDS));
    return EXIT.ok;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    print({ version: appVersion() }, appVersion());
    return EXIT.ok;
  }

  let service: Service | undefined;
  let command: Command | undefined;
  const restoreConsole = wantsJson ? keepStdoutForJson() : () => undefined;
  try {
    const found = findCommand(argv);
    const cmd = (command = found.command);
    const args = parseCommandArgs(cmd, found.rest);
    if (args.help) {
      print({ command: cmd.words.join(' '), usage: usageOf(cmd), summary: cmd.summary, details: cmd.details ?? [] }, commandHelp(cmd));
      return EXIT.ok;
    }
    // The engine (SQLite, sharp) is loaded only for commands that use it, so help always works.
    const engine = cmd.withoutService ? undefined : await import('../service/service');
    const commandService = (): Service => {
      if (!engine) throw new Error(`the "${cmd.words.join(' ')}" command is marked as not using the service`);
      return (service ??= new engine.Service({ mode: cmd.mode ?? 'cli', version: appVersion() }));
    };
    let client: Client | undefined;
    const result = await cmd.run({
      ...args,
      stdout,
      stderr,
      doors,
      client: () => (client ??= inProcessClient(commandService())),
      serviceForDoor: commandService,
    });
    if (result) print(result.json, result.text);
    return result?.exitCode ?? EXIT.ok;
  } catch (err) {
    const error = toErrorShape(err);
    if (error.code === 'invalid_input' && command?.fields) error.message = nameFieldsAsTyped(error.message, command.fields);
    stderr.write(`effitune: ${error.message}\n`);
    if (err instanceof UsageError && err.command) stderr.write(`usage: ${usageOf(err.command)}\n`);
    if (!(err instanceof ApiError) && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
    if (wantsJson) stdout.write(JSON.stringify({ error: { code: error.code, message: error.message } }) + '\n');
    return exitCodeOf(error.code);
  } finally {
    service?.close();
    restoreConsole();
  }
}

/** "imagesPerClass: too small" reads better as "--images-per-class (imagesPerClass): too small". */
export function nameFieldsAsTyped(message: string, fields: Record<string, string>): string {
  return message.replace(/(?<=^|: |; )([A-Za-z][\w.]*):/g, (whole, field: string) => (fields[field] ? `${fields[field]} (${field}):` : whole));
}

/**
 * With --json, stdout carries exactly one JSON object; stray console.log calls from libraries
 * are sent to stderr instead of corrupting it.
 */
function keepStdoutForJson(): () => void {
  const { log, info, debug } = console;
  console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  return () => Object.assign(console, { log, info, debug });
}
