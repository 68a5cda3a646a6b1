/**
 * A broken or unusual project file, or input no file name can hold, is answered in words with the
 * right code, through the service and the CLI: a project damaged past its first page (it opens,
 * then a query meets the damage), a read-only project written to, a NUL byte in a project path,
 * a search string of hundreds of kilobytes. None of them is `internal` (exit 5, HTTP 500).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { MAX_SEARCH_LENGTH } from '../../main/contract/calls-images';
import { Service } from '../../main/service/service';
import { runCli } from '../../main/cli/main';
import { EXIT } from '../../main/cli/exit-codes';
import { makeTempDir, removeDir } from '../fixtures/temp';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** how a Node stack trace line looks: a CLI printing one has reported a bug, not a problem in words */
const STACK_LINE = /^\s+at .+[(:]\d+/m;

let dir: string;
let service: Service;
const savedHome = process.env.EFFITUNE_HOME;

beforeEach(() => {
  dir = makeTempDir('project-file-errors');
  process.env.EFFITUNE_HOME = path.join(dir, 'home');
  service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
});

afterEach(() => {
  service.close();
  if (savedHome === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = savedHome;
  removeDir(dir);
});

function sink(into: string[]): Writable {
  return new Writable({ write: (chunk, _enc, cb) => (into.push(String(chunk)), cb()) });
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { stdout: sink(out), stderr: sink(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the call to fail');
}

/** A project with `rows` image rows (no files behind them: only the database matters here). */
async function projectWithRows(name: string, rows: number): Promise<string> {
  const file = path.join(dir, name);
  await service.call('project.create', { path: file });
  const { db } = service.projects.get(file);
  const insert = db.prepare(`INSERT INTO images (path, bytes, hash, status, imported_at) VALUES (?, 1, ?, 'ok', 'now')`);
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(path.join(dir, 'images', `${i}-${'long-name-'.repeat(10)}.png`), `hash-${i}`);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  service.projects.close(file);
  return file;
}

describe('a project damaged past its first page', () => {
  it('opens, then every call that meets the damage says the file is damaged and how to recover (not_a_project, exit 2)', async () => {
    const file = await projectWithRows('damaged.effitune', 3000);
    // the schema and the meta rows sit in the first pages; the image rows fill the rest
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(size / 2, 0x55), 0, size / 2, size / 2);
    fs.closeSync(fd);

    await expect(service.call('project.open', { path: file })).resolves.toMatchObject({ path: file });
    const err = await rejection(service.call('images.list', { project: file }));
    expect(err.code).toBe('not_a_project');
    expect(err.message).toContain(`project file ${file} is damaged`);
    expect(err.message).toMatch(/database disk image is malformed/);
    expect(err.message).toMatch(/backup/);

    const run = await cli(['status', file]);
    expect(run.code, run.stderr).toBe(EXIT.notFound);
    expect(run.stderr).toContain(`project file ${file} is damaged`);
    expect(run.stderr).not.toMatch(STACK_LINE);
  });
});

describe('a read-only project', () => {
  /** The CLI in a child process, as user "nobody" when this runs as root (root writes any file). */
  function cliAsUser(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const asRoot = process.getuid?.() === 0;
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/effitune.mjs'), ...argv], {
      cwd: dir,
      env: { ...process.env, EFFITUNE_HOME: path.join(dir, 'cli-home'), HOME: dir },
      uid: asRoot ? 65534 : undefined,
      gid: asRoot ? 65534 : undefined,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('refuses a write as io_error "is read-only" naming the file (exit 4, no stack trace), and still reads', { timeout: 60_000 }, async (context) => {
    const file = await projectWithRows('locked-down.effitune', 3);
    // the folder stays writable: SQLite may still make the -wal and -shm files a reader needs
    fs.chmodSync(dir, 0o777);
    fs.chmodSync(file, 0o444);

    const rename = await cliAsUser(['project', 'rename', file, 'New name']);
    if (rename.code !== EXIT.io && /Cannot find module|EACCES: permission denied, (open|scandir|stat) '\/(?!tmp)/.test(rename.stderr)) {
      context.skip(`user nobody cannot load this checkout: ${rename.stderr.split('\n')[0]}`);
    }
    expect(rename.code, rename.stderr).toBe(EXIT.io);
    expect(rename.stderr).toContain(`project file ${file} is read-only`);
    expect(rename.stderr).not.toMatch(STACK_LINE);

    const status = await cliAsUser(['status', file, '--json']);
    expect(status.code, status.stderr).toBe(EXIT.ok);
    expect(JSON.parse(status.stdout)).toMatchObject({ images: 3 });
  });
});

describe('a NUL byte in a project path', () => {
  it('is invalid input naming the field, and no file is made under the name cut at the NUL', async () => {
    const bad = path.join(dir, 'a\0b.effitune');
    for (const [name, input] of [
      ['project.create', { path: bad }],
      ['project.open', { path: bad }],
      ['images.list', { project: bad }],
    ] as const) {
      const err = await rejection(service.call(name, input));
      expect(err.code).toBe('invalid_input');
      expect(err.message).toMatch(/: (path|project): a project path cannot contain a NUL byte/);
    }
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('a'))).toEqual([]);

    const run = await cli(['project', 'create', bad]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/<file> \(path\): a project path cannot contain a NUL byte/);
  });
});

describe('a search string', () => {
  it('longer than the maximum is refused by the contract in words; one at the maximum runs', async () => {
    const file = await projectWithRows('search.effitune', 2);
    // hundreds of kilobytes of wildcards: SQLite itself gives up on such a LIKE pattern
    const err = await rejection(service.call('images.list', { project: file, filter: { search: '%_'.repeat(400_000) } }));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toContain(`filter.search: a search is at most ${MAX_SEARCH_LENGTH} characters`);

    const longest = await service.call('images.list', { project: file, filter: { search: '%'.repeat(MAX_SEARCH_LENGTH) } });
    expect(longest.total).toBe(0);
    const found = await service.call('images.list', { project: file, filter: { search: 'long-name' } });
    expect(found.total).toBe(2);
  });
});
