/**
 * Class names and colours: names compare ignoring case in any language (NFC, then
 * toLocaleLowerCase), so "Chat", "chat" and a decomposed "chât" are one class; a new class takes
 * the first palette colour no class uses yet. Also finds a class by id or name (ClassRef).
 */
import { ApiError } from '../../contract/contract';
import type { ClassRef } from '../../contract/calls-labels';
import type { Database } from '../../project/database';

export interface ClassRow {
  id: number;
  name: string;
  color: string;
  position: number;
}

/** Distinct colours (Tableau 10 then Kelly's), readable on light and dark thumbnails. */
export const CLASS_PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
  '#f3c300', '#875692', '#f38400', '#a1caf1', '#be0032', '#c2b280', '#848482', '#008856', '#e68fac', '#0067a5',
];

/** The key under which names are unique. */
export function foldName(name: string): string {
  return name.normalize('NFC').toLocaleLowerCase().normalize('NFC');
}

/** Names are stored trimmed and in NFC, so the same text typed twice is the same bytes. */
export function cleanName(name: string): string {
  return name.trim().normalize('NFC');
}

export function allClasses(db: Database): ClassRow[] {
  return db.prepare('SELECT id, name, color, position FROM classes ORDER BY position, id').all() as ClassRow[];
}

/** The first palette colour no class uses; when all are taken, the least used one. */
export function pickColor(used: readonly string[]): string {
  const counts = new Map(CLASS_PALETTE.map((c) => [c, 0]));
  for (const color of used) {
    const key = color.toLowerCase();
    if (counts.has(key)) counts.set(key, counts.get(key)! + 1);
  }
  let best = CLASS_PALETTE[0];
  for (const color of CLASS_PALETTE) if (counts.get(color)! < counts.get(best)!) best = color;
  return best;
}

/** The class a ClassRef names, or a not_found error listing the classes there are. */
export function findClass(classes: readonly ClassRow[], ref: ClassRef): ClassRow {
  const found = typeof ref === 'number' ? classes.find((c) => c.id === ref) : classByName(classes, ref);
  if (found) return found;
  const known = classes.length === 0 ? 'this project has no classes yet' : `classes: ${classes.map((c) => `"${c.name}"`).join(', ')}`;
  throw new ApiError('not_found', typeof ref === 'number' ? `there is no class with id ${ref} (${known})` : `there is no class "${cleanName(ref)}" in this project (${known})`);
}

export function classByName(classes: readonly ClassRow[], name: string): ClassRow | undefined {
  const key = foldName(cleanName(name));
  return classes.find((c) => foldName(c.name) === key);
}

/** Refuses a name another class already has (ignoring case); `except` is the class being renamed. */
export function checkNameFree(classes: readonly ClassRow[], name: string, except?: number): void {
  const other = classByName(classes, name);
  if (other && other.id !== except) {
    const same = other.name === name ? '' : ` ("${other.name}"; names are compared ignoring case)`;
    throw new ApiError('already_exists', `there is already a class named "${name}"${same}`);
  }
}
