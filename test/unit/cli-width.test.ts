/**
 * The CLI's text fits the terminal: `effitune help` (the overview and every command's page) in the
 * terminal's width, else 80 columns; the progress bars at any width, with the ETA always shown.
 */
import { describe, expect, test } from 'vitest';
import { Writable } from 'node:stream';
import type { ImportProgress } from '../../main/contract/contract';
import { COMMANDS } from '../../main/cli/commands';
import { commandHelp, overview } from '../../main/cli/commands/help';
import { runCli } from '../../main/cli/main';
import { fitProgressLine, renderImportProgress } from '../../main/cli/progress-bar';
import { textWidth, wrapText } from '../../main/cli/text-table';

const longest = (text: string) => Math.max(...text.split('\n').map((line) => line.length));
/** Words longer than a line (a path, a long option group) may stand out; these pages have none longer than 40. */
const WIDTHS = [80, 100, 60];

function capture(extra: { isTTY?: boolean; columns?: number } = {}) {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    }),
    extra,
  );
  return { stream, text: () => text };
}

describe('help width', () => {
  test.each(WIDTHS)('the overview fits %i columns and still lists every command with its summary', (width) => {
    const text = overview(COMMANDS, width);
    expect(longest(text)).toBeLessThanOrEqual(width);
    for (const c of COMMANDS) expect(text.replace(/\s+/g, ' ')).toContain(c.summary);
    if (width >= 80) expect(text).toMatch(/^ {2}project create <file> +Create a new \.effitune project file$/m);
  });

  test.each(WIDTHS)("every command's help fits %i columns, its usage and details whole", (width) => {
    for (const c of COMMANDS) {
      const text = commandHelp(c, width);
      expect(longest(text), c.words.join(' ')).toBeLessThanOrEqual(width);
      const words = (s: string) => s.split(/\s+/).filter(Boolean).join(' ');
      for (const detail of c.details ?? []) expect(words(text)).toContain(words(detail));
    }
  });

  test('an option detail continues under its description, not under the option', () => {
    const split = COMMANDS.find((c) => c.words.join(' ') === 'split')!;
    const lines = commandHelp(split, 60).split('\n');
    const at = lines.findIndex((l) => l.startsWith('  --val F'));
    const column = lines[at].indexOf('validation');
    expect(column).toBeGreaterThan(8);
    expect(lines[at + 1].slice(0, column).trim()).toBe('');
    expect(lines[at + 1].charAt(column)).not.toBe(' ');
  });

  test('a usage line breaks between bracketed groups, never inside one', () => {
    const train = COMMANDS.find((c) => c.words[0] === 'train')!;
    const usage = commandHelp(train, 80).split('\n\n')[0].split('\n');
    expect(usage[0]).toMatch(/^Usage: effitune train <project> --model /);
    expect(usage.length).toBeGreaterThan(1);
    for (const line of usage) {
      const opened = (line.match(/\[/g) ?? []).length;
      expect((line.match(/\]/g) ?? []).length, line).toBe(opened);
    }
  });

  test('effitune help uses the terminal width, and 80 columns when stdout is not a terminal', async () => {
    const narrow = capture({ isTTY: true, columns: 64 });
    expect(await runCli(['help'], { stdout: narrow.stream, stderr: capture().stream })).toBe(0);
    expect(longest(narrow.text())).toBeLessThanOrEqual(64);
    const piped = capture();
    expect(await runCli(['help', 'train'], { stdout: piped.stream, stderr: capture().stream })).toBe(0);
    expect(longest(piped.text())).toBeLessThanOrEqual(80);
    expect(longest(piped.text())).toBeGreaterThan(64);
  });

  test('textWidth: the terminal width when there is one, else 80, within 40..120', () => {
    expect(textWidth({ isTTY: true, columns: 100 })).toBe(100);
    expect(textWidth({ isTTY: false, columns: 100 })).toBe(80);
    expect(textWidth(undefined)).toBe(80);
    expect(textWidth({ isTTY: true, columns: 300 })).toBe(120);
    expect(textWidth({ isTTY: true, columns: 20 })).toBe(40);
  });

  test('wrapText keeps a word longer than the line whole, on its own line', () => {
    expect(wrapText('see /a/very/long/path/that/does/not/fit here', 20, '  ', '    ')).toEqual(['  see', '    /a/very/long/path/that/does/not/fit', '    here']);
  });
});

const importing: ImportProgress = { jobId: 'j', phase: 'importing', seen: 2000, total: 2000, imported: 480, unchanged: 0, duplicates: 3, rejected: 17, ratePerSecond: 123.4, elapsedSeconds: 4 };

describe('progress bar width', () => {
  const trainParts = ['epoch 12/20', 'batch 120/340', 'loss 2.3026', 'acc 10%', '12.3 img/s', 'ETA 1h05m'];

  test.each([200, 120, 100, 80, 60, 40, 30])('a training line fits %i columns and ends with the ETA', (columns) => {
    const line = fitProgressLine(0.35, trainParts, columns, 20);
    expect(line.length).toBeLessThanOrEqual(columns - 1);
    expect(line.endsWith('ETA 1h05m')).toBe(true);
    expect(line).toContain('epoch 12/20');
  });

  test('at 80 columns the bar keeps its room and a middle part gives way, not the ETA', () => {
    const line = fitProgressLine(0.5, trainParts, 80, 20);
    expect(line).toMatch(/^\[#{5,}\.{5,}\] epoch 12\/20 · /);
    expect(line).not.toContain('img/s');
    expect(line).toContain('acc 10%');
  });

  test('with room to spare the line is whole and the bar as wide as asked', () => {
    const line = fitProgressLine(0.5, trainParts, 200, 20);
    expect(line).toBe(`[${'#'.repeat(10)}${'.'.repeat(10)}] ${trainParts.join(' · ')}`);
  });

  test('far too narrow: the first part is shortened, the ETA stays', () => {
    const line = fitProgressLine(0.5, ['a long description of the phase', 'ETA 3m07s'], 21);
    expect(line.length).toBeLessThanOrEqual(20);
    expect(line.endsWith('ETA 3m07s')).toBe(true);
  });

  test.each([120, 80, 60, 40])('an import line fits %i columns and shows its ETA', (columns) => {
    const line = renderImportProgress(importing, columns);
    expect(line.length).toBeLessThanOrEqual(columns - 1);
    // 1500 files left at 123.4 img/s
    expect(line.endsWith('ETA 12s')).toBe(true);
    expect(line).toContain(' 25% importing');
  });

  test('no ETA while scanning (the total is not known yet)', () => {
    const line = renderImportProgress({ ...importing, phase: 'scanning', total: null }, 80);
    expect(line).not.toContain('ETA');
    expect(line).toContain('scanning (2000 found)');
  });
});
