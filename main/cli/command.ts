/**
 * The shape of one CLI command. Commands are data in a table (commands/index.ts), so adding
 * `effitune train ...` later is one new entry: its words, its options and a `run` that makes
 * calls of the contract through its typed client and says how to print the result.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Client } from '../contract/client';
import type { CallOutput } from '../contract/contract';
import type { DoorService } from '../service/door-service';

/** The app mode a command's service runs in. */
export type AppMode = CallOutput<'app.info'>['mode'];

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandInput {
  /** Parsed options (strings / booleans as declared), without --json and --help. */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  json: boolean;
  /** The contract's typed client over this process's service (created on first use with the command's mode; closed by the runner). */
  client(): Client;
  /**
   * The same service as the HTTP door needs it (every call by name, every event, image bytes), for
   * `serve` only: it hands the service to the door it opens. Every other command uses client().
   */
  serviceForDoor(): DoorService;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdout: NodeJS.WritableStream;
  /** The other doors this process can open (serve opens the HTTP door); see OtherDoors. */
  doors: OtherDoors;
}

/**
 * A door never imports another door (ARCHITECTURE.md). The HTTP door that `effitune serve` opens
 * is handed in by the composition root (bin/effitune.mjs), loaded only when serve asks for it.
 */
export interface OtherDoors {
  http?: () => Promise<HttpDoor>;
}

export interface HttpDoor {
  defaultStaticDir(): string;
  startServer(options: {
    service: DoorService;
    port: number;
    staticDir: string;
    /** default 127.0.0.1; another address needs tls or insecureLan (the server refuses it otherwise) */
    host?: string;
    tls?: { certFile: string; keyFile: string };
    insecureLan?: boolean;
  }): Promise<{ url: string; port: number; token: string; host?: string; secure?: boolean; loopbackOnly?: boolean; warnings?: string[]; close(): Promise<void> }>;
}

export interface CommandResult {
  /** The one JSON object printed with --json. */
  json: unknown;
  /** The readable summary printed without --json. */
  text: string;
  /** Non-zero when the command did not finish its work (e.g. an import cancelled by Ctrl-C). */
  exitCode?: number;
}

export interface Command {
  /** The words that select the command, e.g. ['project', 'create']. */
  words: string[];
  /** Positional arguments, shown in usage; names ending in '?' are optional. */
  args: string[];
  /** Extra usage text for options, e.g. '[--name NAME]'. */
  optionsUsage?: string;
  summary: string;
  /** Longer help: one line per option or example. */
  details?: string[];
  options?: OptionSpec;
  /** Contract field → how the user typed it (e.g. imagesPerClass → --images-per-class), for error messages. */
  fields?: Record<string, string>;
  /** The app mode the service runs in (the serve command runs the browser mode). */
  mode?: AppMode;
  /** True for commands that never call the service (help): they then work without loading native modules. */
  withoutService?: boolean;
  /**
   * Runs the command. A command that prints by itself while running (serve) returns null and
   * owns stdout; every other command returns its result and the runner prints it.
   */
  run(input: CommandInput): Promise<CommandResult | null>;
}

export function usageOf(command: Command): string {
  const args = command.args.map((a) => (a.endsWith('?') ? `[${a.slice(0, -1)}]` : `<${a}>`));
  return ['effitune', ...command.words, ...args, command.optionsUsage ?? '', '[--json]'].filter(Boolean).join(' ');
}
