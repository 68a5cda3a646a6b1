/**
 * Class management: create, rename, recolour, reorder, merge and delete, each one undoable edit
 * (see journal.ts). Names are trimmed, unique ignoring case, any language; every error names the class.
 */
import { ApiError } from '../../contract/contract';
import type { ClassInfo, ClassRef, EditInfo } from '../../contract/calls-labels';
import type { Database } from '../../project/database';
import { allClasses, checkNameFree, cleanName, findClass, pickColor, type ClassRow } from './class-names';
import { changedStates, encodeStates, readStates } from './image-state';
import { performEdit } from './journal';

/** Classes in their order, each with its usable images (status ok, file present, not excluded). */
export function listClasses(db: Database): ClassInfo[] {
  return db
    .prepare(
      `SELECT c.id, c.name, c.color, c.position, COUNT(i.id) AS count FROM classes c
       LEFT JOIN images i ON i.class_id = c.id AND i.status = 'ok' AND i.missing = 0 AND i.excluded = 0
       GROUP BY c.id ORDER BY c.position, c.id`,
    )
    .all() as ClassInfo[];
}

function classInfo(db: Database, id: number): ClassInfo {
  return listClasses(db).find((c) => c.id === id)!;
}

export function createClass(db: Database, name: string, color: string | undefined, who: string): { edit: EditInfo; class: ClassInfo } {
  return db
    .transaction(() => {
      const classes = allClasses(db);
      const row = newClassRow(db, classes, name, color);
      const edit = performEdit(db, { kind: 'classes.create', summary: `create class "${row.name}"`, redo: { create: [row] }, undo: { remove: [row.id] } }, { source: 'user', who });
      return { edit, class: classInfo(db, row.id) };
    })
    .immediate();
}

/** The row of a class not created yet: next id, last position, a free colour. Checks the name. */
export function newClassRow(db: Database, classes: readonly ClassRow[], name: string, color?: string): ClassRow {
  const clean = cleanName(name);
  checkNameFree(classes, clean);
  // `classes` may hold rows planned but not inserted yet (an import creating several classes)
  const maxId = Math.max((db.prepare('SELECT MAX(id) FROM classes').pluck().get() as number | null) ?? 0, ...classes.map((c) => c.id));
  const maxPosition = classes.reduce((m, c) => Math.max(m, c.position), 0);
  return { id: maxId + 1, name: clean, color: color?.toLowerCase() ?? pickColor(classes.map((c) => c.color)), position: maxPosition + 1 };
}

export function renameClass(db: Database, ref: ClassRef, name: string, who: string): { edit: EditInfo | null; class: ClassInfo } {
  return updateClass(db, ref, who, (c) => {
    const clean = cleanName(name);
    return clean === c.name ? null : { row: { ...c, name: clean }, summary: `rename class "${c.name}" to "${clean}"`, kind: 'classes.rename' };
  });
}

export function recolorClass(db: Database, ref: ClassRef, color: string, who: string): { edit: EditInfo | null; class: ClassInfo } {
  return updateClass(db, ref, who, (c) => {
    const clean = color.toLowerCase();
    return clean === c.color.toLowerCase() ? null : { row: { ...c, color: clean }, summary: `recolour class "${c.name}" to ${clean}`, kind: 'classes.recolor' };
  });
}

function updateClass(
  db: Database,
  ref: ClassRef,
  who: string,
  change: (c: ClassRow) => { row: ClassRow; summary: string; kind: string } | null,
): { edit: EditInfo | null; class: ClassInfo } {
  return db
    .transaction(() => {
      const classes = allClasses(db);
      const current = findClass(classes, ref);
      const next = change(current);
      if (!next) return { edit: null, class: classInfo(db, current.id) };
      checkNameFree(classes, next.row.name, current.id);
      const edit = performEdit(db, { kind: next.kind, summary: next.summary, redo: { update: [next.row] }, undo: { update: [current] } }, { source: 'user', who });
      return { edit, class: classInfo(db, current.id) };
    })
    .immediate();
}

/** `order` names every class once; positions become 1..n in that order. */
export function reorderClasses(db: Database, order: readonly ClassRef[], who: string): { edit: EditInfo | null; classes: ClassInfo[] } {
  return db
    .transaction(() => {
      const classes = allClasses(db);
      const wanted = order.map((ref) => findClass(classes, ref));
      const seen = new Set<number>();
      for (const c of wanted) {
        if (seen.has(c.id)) throw new ApiError('invalid_input', `order: class "${c.name}" is listed twice`);
        seen.add(c.id);
      }
      const left = classes.filter((c) => !seen.has(c.id));
      if (left.length > 0) throw new ApiError('invalid_input', `order: every class must be listed once; missing ${left.map((c) => `"${c.name}"`).join(', ')}`);
      const before = wanted.filter((c, i) => c.position !== i + 1);
      if (before.length === 0) return { edit: null, classes: listClasses(db) };
      const after = wanted.map((c, i) => ({ ...c, position: i + 1 })).filter((c, i) => wanted[i].position !== i + 1);
      const summary = `reorder classes: ${wanted.map((c) => c.name).join(', ')}`;
      const edit = performEdit(db, { kind: 'classes.reorder', summary: summary.length > 120 ? `${summary.slice(0, 117)}...` : summary, redo: { update: after }, undo: { update: before } }, { source: 'user', who });
      return { edit, classes: listClasses(db) };
    })
    .immediate();
}

/** Every image of `from` (whatever its status) goes to `into`; `from` is removed. */
export function mergeClasses(db: Database, fromRef: ClassRef, intoRef: ClassRef, who: string): { edit: EditInfo; moved: number; class: ClassInfo } {
  return db
    .transaction(() => {
      const classes = allClasses(db);
      const from = findClass(classes, fromRef);
      const into = findClass(classes, intoRef);
      if (from.id === into.id) throw new ApiError('invalid_input', `cannot merge class "${from.name}" into itself`);
      const before = readStates(db, imagesOf(db, from.id));
      const at = new Date().toISOString();
      const after = changedStates(before, () => ({ class_id: into.id, label_source: 'user', labeled_at: at, labeled_by: who }));
      const edit = performEdit(
        db,
        {
          kind: 'classes.merge',
          summary: `merge class "${from.name}" (${before.size} image${before.size === 1 ? '' : 's'}) into "${into.name}"`,
          redo: { images: encodeStates(after), remove: [from.id] },
          undo: { create: [from], images: encodeStates(before) },
        },
        { source: 'merge', who },
      );
      return { edit, moved: before.size, class: classInfo(db, into.id) };
    })
    .immediate();
}

/** The class is removed and its images become unlabeled. */
export function deleteClass(db: Database, ref: ClassRef, who: string): { edit: EditInfo; unlabeled: number } {
  return db
    .transaction(() => {
      const target = findClass(allClasses(db), ref);
      const before = readStates(db, imagesOf(db, target.id));
      const at = new Date().toISOString();
      // label_source 'user': the user decided these images have no label (not "never labeled")
      const after = changedStates(before, () => ({ class_id: null, label_source: 'user', labeled_at: at, labeled_by: who }));
      const edit = performEdit(
        db,
        {
          kind: 'classes.delete',
          summary: `delete class "${target.name}"${before.size > 0 ? ` (${before.size} image${before.size === 1 ? '' : 's'} unlabeled)` : ''}`,
          redo: { images: encodeStates(after), remove: [target.id] },
          undo: { create: [target], images: encodeStates(before) },
        },
        { source: 'delete', who },
      );
      return { edit, unlabeled: before.size };
    })
    .immediate();
}

function imagesOf(db: Database, classId: number): number[] {
  return db.prepare('SELECT id FROM images WHERE class_id = ?').pluck().all(classId) as number[];
}
