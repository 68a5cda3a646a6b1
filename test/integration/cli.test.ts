/**
 * The real `effitune` command (bin/effitune.mjs) in child processes with a temporary
 * EFFITUNE_HOME: readable output, --json giving exactly one JSON object on stdout, errors in
 * words with non-zero exit codes, and Ctrl-C cancelling an import cleanly.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { effitune as spawnEffitune, onlyJson } from '../fixtures/cli-runner';

// Each run starts Node + tsx; on two busy CPU cores that alone can take seconds.
const SLOW = 120_000;

let tmp: string;
let home: string;
let images: string;

/** The real binary in this file's temporary folder and EFFITUNE_HOME; onSpawn gets the child's pid. */
const effitune = (args: string[], options: { onSpawn?: (pid: number) => void } = {}) => spawnEffitune(args, { cwd: tmp, home, onSpawn: options.onSpawn });

async function writeJpeg(file: string, width: number, height: number, color: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: color } })
    .jpeg()
    .toFile(file);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-cli-test-'));
  home = path.join(tmp, 'home');
  images = path.join(tmp, 'images');
  for (let i = 0; i < 4; i++) {
    await writeJpeg(path.join(images, 'cats', `cat ${i}.jpg`), 40 + i, 30, '#c08040');
    await writeJpeg(path.join(images, 'dogs', `dog-${i}.jpg`), 50, 30 + i, '#4080c0');
  }
  await writeJpeg(path.join(images, 'loose.jpg'), 33, 33, '#00ff00');
  fs.writeFileSync(path.join(images, 'cats', 'notes.jpg'), 'this is text, not a JPEG');
}, SLOW);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('effitune CLI', () => {
  test('project create / rename / list, readable and --json', { timeout: SLOW }, async () => {
    const created = await effitune(['project', 'create', 'first.effitune', '--name', 'First']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`Created project "First" at ${path.join(tmp, 'first.effitune')}`);

    const json = await effitune(['project', 'create', 'second.effitune', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(onlyJson(json)).toMatchObject({ path: path.join(tmp, 'second.effitune'), name: expect.any(String), schemaVersion: expect.any(Number) });

    const renamed = await effitune(['project', 'rename', 'second.effitune', 'Second one', '--json']);
    expect(onlyJson(renamed).name).toBe('Second one');

    const list = await effitune(['project', 'list', '--json']);
    const names = onlyJson(list).projects.map((p: { name: string }) => p.name);
    expect(names).toEqual(expect.arrayContaining(['First', 'Second one']));
    const table = await effitune(['project', 'list']);
    expect(table.stdout).toMatch(/^NAME\s+PATH\s+OPENED/);
  });

  test('import --json reports imported, rejected (with reasons) and classes; status agrees', { timeout: SLOW }, async () => {
    const project = path.join(tmp, 'pets.effitune');
    expect((await effitune(['project', 'create', project])).code).toBe(0);
    const run = await effitune(['import', project, images, '--labels-from-folders', '--json']);
    expect(run.code, run.stderr).toBe(0);
    // Progress bars are for terminals only; a pipe gets none.
    expect(run.stderr).not.toContain('\r');
    const result = onlyJson(run);
    expect(result).toMatchObject({ cancelled: false, imported: 9, rejected: 1 });
    expect(result.rejections).toEqual([{ path: path.join(images, 'cats', 'notes.jpg'), reason: expect.any(String) }]);
    expect(result.rejections[0].reason.length).toBeGreaterThan(5);
    expect(result.classes).toEqual(expect.arrayContaining([{ name: 'cats', count: 4 }, { name: 'dogs', count: 4 }]));

    const status = onlyJson(await effitune(['status', project, '--json']));
    expect(status).toMatchObject({ images: 9, labeled: 8, unlabeled: 1, rejected: 1 });

    const readable = await effitune(['status', project]);
    expect(readable.code).toBe(0);
    expect(readable.stdout).toMatch(/cats\s+4/);
    expect(readable.stdout).toMatch(/dogs\s+4/);

    const again = await effitune(['import', project, images, '--labels-from-folders']);
    expect(again.code, again.stderr).toBe(0);
    // Re-import is incremental: nothing new, everything known is unchanged.
    expect(again.stdout).toMatch(/Imported 0 new images/);
    expect(again.stdout).toMatch(/unchanged [1-9]\d*/);
  });

  test('errors: words on stderr, {error} on stdout with --json, distinct exit codes', { timeout: SLOW }, async () => {
    const missing = await effitune(['status', 'missing.effitune', '--json']);
    expect(missing.code).toBe(2);
    expect(onlyJson(missing)).toEqual({ error: { code: 'not_found', message: expect.stringContaining('missing.effitune') } });
    expect(missing.stderr).toContain('missing.effitune');

    const notProject = await effitune(['status', path.join(images, 'loose.jpg')]);
    expect(notProject.code).toBe(2);
    expect(notProject.stdout).toBe('');
    expect(notProject.stderr).toMatch(/not an Effitune project/);

    const unknown = await effitune(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');

    const wrongType = await effitune(['sample', 'x.effitune', '--images-per-class', 'many', '--json']);
    expect(wrongType.code).toBe(1);
    expect(onlyJson(wrongType).error.message).toContain('--images-per-class');
    expect(fs.existsSync(path.join(tmp, 'x.effitune'))).toBe(false);

    const usage = await effitune(['import', 'only-one-arg.effitune']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('missing <folder>');
    expect(usage.stderr).toContain('usage: effitune import');

    expect((await effitune(['project', 'create', 'first.effitune'])).code).toBe(3);
  });

  test('Ctrl-C cancels an import cleanly: partial result, exit 130, consistent project, re-run completes', { timeout: 240_000 }, async () => {
    const big = path.join(tmp, 'big');
    const count = 400;
    // Noise JPEGs: distinct content (no duplicates) and slow enough to decode that the import takes a while.
    for (const folder of ['c0', 'c1']) fs.mkdirSync(path.join(big, folder), { recursive: true });
    for (let i = 0; i < count; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, k) =>
          sharp({ create: { width: 320, height: 240, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
            .jpeg()
            .toFile(path.join(big, `c${(i + k) % 2}`, `n${i + k}.jpg`)),
        ),
      );
    }
    const project = path.join(tmp, 'cancel.effitune');
    expect((await effitune(['project', 'create', project])).code).toBe(0);

    // Interrupt once the import is writing (its WAL file grows), like a user pressing Ctrl-C.
    const wal = `${project}-wal`;
    const walAtStart = fs.statSync(wal, { throwIfNoEntry: false })?.size ?? 0;
    let interrupted = false;
    const run = await effitune(['import', project, big, '--json'], {
      onSpawn: (pid) => {
        const timer = setInterval(() => {
          const size = fs.statSync(wal, { throwIfNoEntry: false })?.size ?? 0;
          if (size > walAtStart + 64 * 1024) {
            clearInterval(timer);
            interrupted = true;
            process.kill(pid, 'SIGINT');
          }
        }, 10);
      },
    });
    expect(interrupted).toBe(true);
    expect(run.stderr).toContain('Cancelling the import');
    expect(run.code, run.stderr).toBe(130);
    const partial = onlyJson(run);
    expect(partial.cancelled).toBe(true);
    expect(partial.imported).toBeLessThan(count);

    const status = onlyJson(await effitune(['status', project, '--json']));
    expect(status.images).toBe(partial.imported);

    const rerun = onlyJson(await effitune(['import', project, big, '--json']));
    expect(rerun.cancelled).toBe(false);
    expect(rerun.imported + rerun.unchanged).toBe(count);
    expect(onlyJson(await effitune(['status', project, '--json'])).images).toBe(count);
  });
});
