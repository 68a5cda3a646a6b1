/** The CLI's pieces in-process: command lookup, argument checks, error wording, tables, progress. */
import { describe, expect, test } from 'vitest';
import { Writable } from 'node:stream';
import type { ImportProgress } from '../../main/contract/contract';
import { usageOf } from '../../main/cli/command';
import { COMMANDS } from '../../main/cli/commands';
import { EXIT, exitCodeOf } from '../../main/cli/exit-codes';
import { findCommand, nameFieldsAsTyped, parseCommandArgs, runCli } from '../../main/cli/main';
import { numberOrText } from '../../main/cli/numbers';
import { ProgressBar, renderImportProgress } from '../../main/cli/progress-bar';
import { formatTable } from '../../main/cli/text-table';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

const progress: ImportProgress = {
  jobId: 'j',
  phase: 'importing',
  seen: 100,
  total: 200,
  imported: 40,
  unchanged: 5,
  duplicates: 3,
  rejected: 2,
  ratePerSecond: 123.4,
  elapsedSeconds: 1,
};

describe('findCommand', () => {
  test('the longest matching words select the command; the rest are its arguments', () => {
    const { command, rest } = findCommand(['project', 'create', 'a.effitune', '--name', 'A']);
    expect(command.words).toEqual(['project', 'create']);
    expect(rest).toEqual(['a.effitune', '--name', 'A']);
    expect(findCommand(['import', 'p', 'f']).command.words).toEqual(['import']);
  });
  test('unknown commands and sub-commands are usage errors that say what exists', () => {
    expect(() => findCommand(['frobnicate'])).toThrow(/unknown command "frobnicate"/);
    expect(() => findCommand(['project', 'explode'])).toThrow(/no sub-command "explode"; known: create, rename, list/);
    expect(() => findCommand(['project'])).toThrow(/needs a sub-command/);
  });
  test('every command has a distinct name and a usage line', () => {
    const names = COMMANDS.map((c) => c.words.join(' '));
    expect(new Set(names).size).toBe(names.length);
    for (const c of COMMANDS) expect(usageOf(c)).toMatch(/^effitune .* \[--json\]$/);
  });
});

describe('parseCommandArgs', () => {
  const importCommand = findCommand(['import']).command;
  test('options and --json are parsed', () => {
    const args = parseCommandArgs(importCommand, ['p.effitune', 'images', '--labels-from-folders', '--json']);
    expect(args).toMatchObject({ positionals: ['p.effitune', 'images'], json: true, values: { 'labels-from-folders': true } });
  });
  test('missing and extra positionals, unknown options are usage errors', () => {
    expect(() => parseCommandArgs(importCommand, ['p.effitune'])).toThrow(/missing <folder>/);
    expect(() => parseCommandArgs(importCommand, ['a', 'b', 'c'])).toThrow(/unexpected argument "c"/);
    expect(() => parseCommandArgs(importCommand, ['a', 'b', '--bogus'])).toThrow(/--bogus/);
  });
  test('--help needs no positionals', () => {
    expect(parseCommandArgs(importCommand, ['--help']).help).toBe(true);
  });
});

describe('error wording', () => {
  test('contract field names are shown as the user typed them', () => {
    const message = 'invalid input for sample.create: imagesPerClass: Too small; path: required';
    expect(nameFieldsAsTyped(message, { imagesPerClass: '--images-per-class', path: '<file>' })).toBe(
      'invalid input for sample.create: --images-per-class (imagesPerClass): Too small; <file> (path): required',
    );
  });
  test('error codes map to documented exit codes', () => {
    expect(exitCodeOf('invalid_input')).toBe(EXIT.usage);
    expect(exitCodeOf('not_found')).toBe(EXIT.notFound);
    expect(exitCodeOf('already_exists')).toBe(EXIT.conflict);
    expect(exitCodeOf('cancelled')).toBe(EXIT.interrupted);
    expect(exitCodeOf('internal')).toBe(EXIT.internal);
  });
  test('numeric option text becomes a number, anything else stays text for the contract to reject', () => {
    expect(numberOrText('12')).toBe(12);
    expect(numberOrText('abc')).toBe('abc');
    expect(numberOrText(undefined)).toBeUndefined();
  });
});

describe('runCli without the engine', () => {
  test('help --json prints exactly one JSON object listing the commands', async () => {
    const out = capture();
    const err = capture();
    const code = await runCli(['help', '--json'], { stdout: out.stream, stderr: err.stream });
    expect(code).toBe(0);
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0]);
    expect(parsed.commands.map((c: { command: string }) => c.command)).toContain('project create');
  });
  test('an unknown command with --json: message on stderr, {error} on stdout, exit 1', async () => {
    const out = capture();
    const err = capture();
    const code = await runCli(['nope', '--json'], { stdout: out.stream, stderr: err.stream });
    expect(code).toBe(EXIT.usage);
    expect(JSON.parse(out.text())).toEqual({ error: { code: 'invalid_input', message: expect.stringContaining('unknown command "nope"') } });
    expect(err.text()).toContain('unknown command "nope"');
  });
});

describe('formatTable', () => {
  test('columns line up and numbers are right-aligned', () => {
    expect(formatTable(['CLASS', 'IMAGES'], [['cat', 5], ['hippopotamus', 120]])).toBe(
      ['CLASS         IMAGES', 'cat                5', 'hippopotamus     120'].join('\n'),
    );
  });
});

describe('progress bar', () => {
  test('renders counts, percentage and rate within the terminal width', () => {
    const line = renderImportProgress(progress, 100);
    expect(line).toContain(' 25% importing');
    expect(line).toContain('50/200 files');
    expect(line).toContain('123 img/s');
    expect(line.length).toBeLessThan(100);
  });
  test('draws nothing when stderr is not a terminal', () => {
    const writes: string[] = [];
    const bar = new ProgressBar({ write: (t: string) => writes.push(t), isTTY: false });
    bar.update(progress);
    bar.clear();
    expect(writes).toEqual([]);
    const tty = new ProgressBar({ write: (t: string) => writes.push(t), isTTY: true, columns: 80 });
    tty.update(progress, 1000);
    tty.update(progress, 1010); // throttled
    tty.clear();
    expect(writes).toHaveLength(2);
    expect(writes[0]).toMatch(/^\r\[#+\.+\]/);
  });
});
