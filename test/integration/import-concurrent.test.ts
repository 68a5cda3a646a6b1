/**
 * Two imports into one project at once are refused as busy, never raced: one in another process
 * (another `effitune import`, the app and a command) is found before the second reads a file, a
 * claim left by a killed import does not block the next one, a second import in the same service
 * is refused too, and a UNIQUE conflict with rows another writer added under our feet is busy in
 * words, not an internal error with SQLite's text.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { generateSampleFolder } from '../../main/dataset/sample';
import { readClaim } from '../../main/project/import-claim';
import { Service } from '../../main/service/service';
import { startChildImport, type ChildImport } from '../fixtures/child-import';
import { makeTempDir, removeDir } from '../fixtures/temp';

let shared: string;
let folder: string;
let dir: string;
let service: Service;
let project: string;
/** child imports of the running test, killed after it whatever happened (a stopped one would stay forever) */
const children: ChildImport[] = [];
const savedHome = process.env.EFFITUNE_HOME;

beforeAll(async () => {
  shared = makeTempDir('import-concurrent-images');
  folder = path.join(shared, 'images');
  await generateSampleFolder(folder, 6);
});
afterAll(() => removeDir(shared));

beforeEach(async () => {
  dir = makeTempDir('import-concurrent');
  process.env.EFFITUNE_HOME = path.join(dir, 'home');
  service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
  project = path.join(dir, 'p.effitune');
  await service.call('project.create', { path: project });
  // the child process opens the file itself
  service.projects.close(project);
});

afterEach(() => {
  for (const { child } of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  service.close();
  if (savedHome === undefined) delete process.env.EFFITUNE_HOME;
  else process.env.EFFITUNE_HOME = savedHome;
  removeDir(dir);
});

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the call to fail');
}

/** A child import stopped (SIGSTOP) at its first progress line: it holds the project's import, frozen. */
async function frozenChildImport(): Promise<ChildImport> {
  let frozen!: () => void;
  const atFirstLine = new Promise<void>((resolve) => (frozen = resolve));
  const started = startChildImport(project, folder, {
    onLine: (line, child) => {
      if (line.type === 'progress' && child.signalCode === null && !child.killed) {
        child.kill('SIGSTOP');
        frozen();
      }
    },
  });
  children.push(started);
  await Promise.race([atFirstLine, started.done.then(({ lines, stderr }) => Promise.reject(new Error(`child import ended early: ${JSON.stringify(lines.at(-1))} ${stderr}`)))]);
  return started;
}

describe('two imports into one project', () => {
  it('an import running in another process makes a second one busy before it starts; after it, importing works', { timeout: 60_000 }, async () => {
    const other = await frozenChildImport();
    const err = await rejection(service.call('import.folder', { project, folder, labelsFromFolders: true }));
    expect(err.code).toBe('busy');
    expect(err.message).toContain(`project ${project} is already importing ${folder} in another process (pid ${other.child.pid}`);
    // refused before it wrote anything: the child's import goes on and completes
    other.child.kill('SIGCONT');
    const { lines, stderr } = await other.done;
    expect(lines.at(-1), stderr).toMatchObject({ type: 'result', result: { imported: 24 } });
    expect(readClaim(service.projects.get(project).db)).toBeNull();

    const again = await service.call('import.folder', { project, folder, labelsFromFolders: true });
    expect(again).toMatchObject({ imported: 0, unchanged: 24 });
  });

  it('a claim left by an import killed with SIGKILL does not block the next import', { timeout: 60_000 }, async () => {
    const other = await frozenChildImport();
    other.child.kill('SIGKILL');
    await other.done;
    expect(readClaim(service.projects.get(project).db)).toMatchObject({ pid: other.child.pid, folder });

    const result = await service.call('import.folder', { project, folder, labelsFromFolders: true });
    expect(result.imported + result.unchanged).toBe(24);
    expect(readClaim(service.projects.get(project).db)).toBeNull();
  });

  it('in the same service, a second import of the project while one runs is busy', async () => {
    const first = service.call('import.folder', { project, folder, labelsFromFolders: true, jobId: 'first' });
    const err = await rejection(service.call('import.folder', { project, folder, labelsFromFolders: true, jobId: 'second' }));
    expect(err.code).toBe('busy');
    expect(err.message).toContain(`project ${project} is already importing`);
    await expect(first).resolves.toMatchObject({ imported: 24 });
  });

  it('rows another writer adds between our check and our write make the import busy, not internal', async () => {
    // what a second process would do at the worst moment: write a usable row with the same content first
    service.projects.get(project).db.exec(`
      CREATE TRIGGER another_writer BEFORE INSERT ON images WHEN NEW.status = 'ok'
      BEGIN
        INSERT INTO images (path, bytes, hash, status, imported_at) VALUES ('/elsewhere' || NEW.path, NEW.bytes, NEW.hash, 'ok', 'now');
      END`);
    const err = await rejection(service.call('import.folder', { project, folder, labelsFromFolders: true }));
    expect(err.code).toBe('busy');
    expect(err.message).toContain(`another import into project ${project} wrote the same files at the same time`);
    expect(err.message).toContain(`import of ${folder} stopped`);
  });
});
