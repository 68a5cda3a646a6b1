import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/contract/contract';
import { ProjectRegistry } from '../../main/project/registry';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { migrations } from '../../main/project/migrations';

let dir: string;
let registry: ProjectRegistry;
beforeEach(() => {
  dir = makeTempDir('registry');
  registry = new ProjectRegistry(path.join(dir, 'home'));
});
afterEach(() => {
  registry.closeAll();
  removeDir(dir);
});

describe('ProjectRegistry', () => {
  it('creates a project named after its file unless given a name', () => {
    const info = registry.create(path.join(dir, 'flowers.effitune'));
    expect(info).toMatchObject({ path: path.join(dir, 'flowers.effitune'), name: 'flowers', schemaVersion: migrations.length });
    expect(Date.parse(info.createdAt)).not.toBeNaN();
    expect(registry.create(path.join(dir, 'b.effitune'), 'Birds of Europe').name).toBe('Birds of Europe');
  });

  it('normalises paths: a relative path and an absolute one are the same open project', () => {
    const file = path.join(dir, 'p.effitune');
    registry.create(file);
    const relative = path.relative(process.cwd(), file);
    expect(registry.get(relative)).toBe(registry.get(file));
    expect(registry.get(relative).path).toBe(file);
  });

  it('renames a project and keeps the name across close and open', () => {
    const file = path.join(dir, 'p.effitune');
    registry.create(file);
    expect(registry.rename(file, 'New name').name).toBe('New name');
    expect(registry.close(file)).toBe(true);
    expect(registry.close(file)).toBe(false);
    expect(registry.open(file).name).toBe('New name');
    expect(registry.recent()[0]).toMatchObject({ path: file, name: 'New name', exists: true });
  });

  it('remembers recent projects, most recent first, at most 20, in the data folder', () => {
    const files = Array.from({ length: 22 }, (_, i) => path.join(dir, `p${i}.effitune`));
    for (const file of files) registry.create(file);
    registry.close(files[3]);
    registry.open(files[3]);
    const recent = registry.recent();
    expect(recent).toHaveLength(20);
    expect(recent[0].path).toBe(files[3]);
    expect(recent[1].path).toBe(files[21]);
    expect(recent.map((r) => r.path)).not.toContain(files[0]);

    // persisted: a new registry over the same data folder sees the same list
    const other = new ProjectRegistry(path.join(dir, 'home'));
    expect(other.recent().map((r) => r.path)).toEqual(recent.map((r) => r.path));

    fs.rmSync(files[21]);
    expect(registry.recent().find((r) => r.path === files[21])?.exists).toBe(false);
  });

  it('treats a damaged recent list as empty', () => {
    fs.mkdirSync(path.join(dir, 'home'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'home', 'recent-projects.json'), '{ not json');
    expect(registry.recent()).toEqual([]);
    registry.create(path.join(dir, 'p.effitune'));
    expect(registry.recent()).toHaveLength(1);
  });

  it('errors in words for a missing or foreign file, and opens nothing', () => {
    expect(() => registry.open(path.join(dir, 'nope.effitune'))).toThrow(/nope\.effitune does not exist/);
    fs.writeFileSync(path.join(dir, 'fake.effitune'), 'hello');
    try {
      registry.open(path.join(dir, 'fake.effitune'));
      expect.unreachable();
    } catch (err) {
      expect((err as ApiError).code).toBe('not_a_project');
    }
    expect(registry.recent()).toEqual([]);
  });

  it('makes a side folder named after the project file', () => {
    const file = path.join(dir, 'foo.effitune');
    registry.create(file);
    const folder = registry.sideFolder(file, 'checkpoints');
    expect(folder).toBe(path.join(dir, 'foo.effitune.d', 'checkpoints'));
    expect(fs.statSync(folder).isDirectory()).toBe(true);
    expect(() => registry.sideFolder(file, '../escape')).toThrow(ApiError);
  });
});
