/**
 * The bundled entries (scripts/entry-bundles.cjs): built once per state of the sources, used only
 * while fresh, keeping each module's own import.meta.url, and what the worker launcher and the CLI
 * start from.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROBE_BACKEND_ENV, PROBE_MARKER } from '../../main/backend/probe-protocol';
import { nodeLauncher, workerEnv } from '../../main/workers/process-launcher';

const require = createRequire(import.meta.url);
const root = path.resolve(__dirname, '../..');
const bundles = require('../../scripts/entry-bundles.cjs') as {
  ENTRIES: Record<string, string>;
  fingerprint(root?: string): string;
  freshEntries(root?: string): string | null;
  ensureEntries(root?: string): Promise<{ dir: string | null; reason: string | null }>;
  entryFile(dir: string, entry: string): string;
};
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-bundles-'));
// bundles find their packages in the repository's node_modules, so their caches live under it
fs.mkdirSync(path.join(root, 'node_modules/.cache'), { recursive: true });
const caches = fs.mkdtempSync(path.join(root, 'node_modules/.cache/effitune-test-'));
afterAll(() => fs.rmSync(caches, { recursive: true, force: true }));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

function withCache<T>(cache: string, f: () => Promise<T>): Promise<T> {
  const before = process.env.EFFITUNE_ENTRY_CACHE;
  process.env.EFFITUNE_ENTRY_CACHE = cache;
  return f().finally(() => {
    if (before === undefined) delete process.env.EFFITUNE_ENTRY_CACHE;
    else process.env.EFFITUNE_ENTRY_CACHE = before;
  });
}

describe('bundled entries', () => {
  it('the fingerprint changes when a source under main/ changes, and only a fresh folder is used', () => {
    const fake = path.join(temp, 'repo');
    fs.mkdirSync(path.join(fake, 'main', 'cli'), { recursive: true });
    for (const f of ['tsconfig.json', 'package.json', 'main/cli/main.ts']) fs.writeFileSync(path.join(fake, f), 'x');
    const first = bundles.fingerprint(fake);
    expect(bundles.fingerprint(fake)).toBe(first);
    fs.writeFileSync(path.join(fake, 'main/cli/main.ts'), 'xy');
    const second = bundles.fingerprint(fake);
    expect(second).not.toBe(first);
    fs.writeFileSync(path.join(fake, 'main/cli/extra.ts'), '');
    expect(bundles.fingerprint(fake)).not.toBe(second);
    // nothing built for this state yet: not fresh
    expect(bundles.freshEntries(fake)).toBeNull();
  });

  it('builds every entry once, keeps import.meta.url the source file’s, and EFFITUNE_NO_BUNDLES turns it off', async () => {
    const cache = path.join(caches, 'cache');
    await withCache(cache, async () => {
      const built = await bundles.ensureEntries();
      expect(built.reason).toBeNull();
      expect(built.dir).toBe(path.join(cache, `entries-${bundles.fingerprint()}`));
      for (const entry of Object.keys(bundles.ENTRIES)) expect(fs.existsSync(bundles.entryFile(built.dir!, entry)), entry).toBe(true);
      expect(bundles.freshEntries()).toBe(built.dir);
      // a second call finds it (no temporary folders left behind)
      expect((await bundles.ensureEntries()).dir).toBe(built.dir);
      expect(fs.readdirSync(cache)).toEqual([path.basename(built.dir!)]);
      // the worker launcher resolves the trainer's source from its own module's URL
      const code = fs.readFileSync(bundles.entryFile(built.dir!, 'trainer'), 'utf8') + fs.readdirSync(path.join(built.dir!, 'chunks')).map((c) => fs.readFileSync(path.join(built.dir!, 'chunks', c), 'utf8')).join('\n');
      expect(code).toContain(JSON.stringify(new URL(`file://${path.join(root, 'main/workers/process-launcher.ts')}`).href));
      expect(code).not.toMatch(/import\.meta\.url/);
      process.env.EFFITUNE_NO_BUNDLES = '1';
      try {
        expect(bundles.freshEntries()).toBeNull();
        expect(await bundles.ensureEntries()).toEqual({ dir: null, reason: 'EFFITUNE_NO_BUNDLES=1' });
      } finally {
        delete process.env.EFFITUNE_NO_BUNDLES;
      }
    });
  });

  it('the worker launcher starts a worker from its bundle when fresh, from the TypeScript through tsx when not', async () => {
    const cache = path.join(caches, 'launch');
    await withCache(cache, async () => {
      const run = () =>
        new Promise<{ cmdline: string; out: string; code: number | null }>((resolve) => {
          const worker = nodeLauncher()('probe', { env: workerEnv({ [PROBE_BACKEND_ENV]: 'cpu', EFFITUNE_ENTRY_CACHE: cache }) });
          const cmdline = fs.readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8').split('\0').join(' ');
          let out = '';
          worker.stdout!.on('data', (d) => (out += d));
          worker.stderr!.on('data', (d) => (out += d));
          worker.onExit((exit) => resolve({ cmdline, out, code: exit.code }));
        });
      const stale = await run();
      expect(stale.cmdline).toMatch(/--import \S*tsx\S* \S*main\/backend\/probe-child\.ts/);
      expect(stale.code, stale.out).toBe(0);
      const { dir } = await bundles.ensureEntries();
      const fresh = await run();
      expect(fresh.cmdline).toContain(bundles.entryFile(dir!, 'probe'));
      expect(fresh.cmdline).not.toMatch(/tsx/);
      // the bundled probe answers as the TypeScript one did
      expect(fresh.code).toBe(0);
      const result = (o: string) => JSON.parse(o.split('\n').find((l) => l.startsWith(PROBE_MARKER))!.slice(PROBE_MARKER.length));
      expect(result(fresh.out)).toEqual(result(stale.out));
    });
  }, 60_000);

  it('the CLI runs from the bundle: --version reads package.json beside the sources, and it builds the bundle when none is fresh', () => {
    const cache = path.join(caches, 'cli');
    const cli = spawnSync(process.execPath, [path.join(root, 'bin/effitune.mjs'), '--version'], { env: { ...process.env, EFFITUNE_ENTRY_CACHE: cache }, encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
    expect(fs.readdirSync(cache)).toEqual([`entries-${bundles.fingerprint()}`]);
  });
});
