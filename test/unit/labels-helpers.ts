/**
 * Shared set-up of the labeling tests: a project with image rows inserted directly (no files
 * needed), and a snapshot of everything labeling may touch, to check that undo restores exactly.
 */
import path from 'node:path';
import type { Database } from '../../main/project/database';
import type { ProjectHandle } from '../../main/project/registry';
import { Service } from '../../main/service/service';
import { makeTempDir, removeDir } from '../fixtures/temp';

export interface LabelsProject {
  dir: string;
  /** the project file, the key of every call */
  file: string;
  service: Service;
  handle: ProjectHandle;
  db: Database;
  close(): void;
}

export function makeLabelsProject(prefix = 'labels'): LabelsProject {
  const dir = makeTempDir(prefix);
  const service = new Service({ mode: 'cli', dataDir: path.join(dir, 'home') });
  const file = path.join(dir, 'p.effitune');
  service.projects.create(file);
  const handle = service.projects.get(file);
  return {
    dir,
    file,
    service,
    handle,
    db: handle.db,
    close() {
      service.close();
      removeDir(dir);
    },
  };
}

/** A class as a folder import makes it (no position given). */
export function addClass(db: Database, name: string, color = '#123456'): number {
  return Number(db.prepare('INSERT INTO classes (name, color) VALUES (?, ?)').run(name, color).lastInsertRowid);
}

let counter = 0;

/** `count` usable images labeled by folder import with the class (null: unlabeled), under /data/<folder>/. */
export function addImages(db: Database, classId: number | null, count: number, options: { split?: string | null; folder?: string; status?: string } = {}): number[] {
  const insert = db.prepare(
    `INSERT INTO images (path, bytes, mtime_ms, hash, status, class_id, label_source, labeled_at, split, width, height, format, imported_at)
     VALUES (?, 1, 0, ?, ?, ?, ?, ?, ?, 10, 10, 'jpeg', '2024-01-01T00:00:00.000Z')`,
  );
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const n = ++counter;
    const status = options.status ?? 'ok';
    ids.push(
      Number(
        insert.run(
          `/data/${options.folder ?? 'f'}/img-${n}.jpg`,
          status === 'ok' ? `hash-${n}` : null,
          status,
          classId,
          classId === null ? null : 'folder',
          classId === null ? null : `2024-01-0${(n % 9) + 1}T00:00:00.000Z`,
          options.split ?? null,
        ).lastInsertRowid,
      ),
    );
  }
  return ids;
}

/** Everything labeling may change: image label columns and the classes. */
export function snapshot(db: Database): unknown {
  return {
    images: db.prepare('SELECT id, class_id, label_source, labeled_at, labeled_by, split, split_source, excluded FROM images ORDER BY id').all(),
    classes: db.prepare('SELECT id, name, color, position FROM classes ORDER BY id').all(),
  };
}

export function classOf(db: Database, imageId: number): string | null {
  return (db.prepare('SELECT c.name FROM images i LEFT JOIN classes c ON c.id = i.class_id WHERE i.id = ?').pluck().get(imageId) as string | null) ?? null;
}
