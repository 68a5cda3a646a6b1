/**
 * The labeling keys, shared by the grid and the detail view so both answer the same key the same
 * way: number keys assign the class at that position, 0 / Backspace clear, x excludes, n jumps to
 * the next unlabeled image, / or c opens the class search, ctrl+z / ctrl+shift+z / ctrl+y undo
 * and redo, ? shows the cheat-sheet.
 */
export type LabelKeyAction =
  | { kind: 'assign'; position: number }
  | { kind: 'clear' }
  | { kind: 'exclude' }
  | { kind: 'next-unlabeled' }
  | { kind: 'pick-class' }
  | { kind: 'undo' }
  | { kind: 'redo' }
  | { kind: 'help' };

interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  target: EventTarget | null;
}

/** Keys typed into a field belong to the field, not to the labeling shortcuts. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

export function labelKeyAction(e: KeyLike): LabelKeyAction | null {
  if (isTypingTarget(e.target) || e.altKey) return null;
  const command = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (command) {
    if (key === 'z') return e.shiftKey ? { kind: 'redo' } : { kind: 'undo' };
    if (key === 'y') return { kind: 'redo' };
    return null;
  }
  if (/^[1-9]$/.test(key)) return { kind: 'assign', position: Number(key) - 1 };
  if (key === '0' || key === 'Backspace' || key === 'Delete') return { kind: 'clear' };
  if (key === 'x') return { kind: 'exclude' };
  if (key === 'n') return { kind: 'next-unlabeled' };
  if (key === '/' || key === 'c') return { kind: 'pick-class' };
  if (key === '?') return { kind: 'help' };
  return null;
}

/** What the cheat-sheet lists; the grid and the detail view share the labeling half. */
export const GRID_KEYS: [string, string][] = [
  ['← → ↑ ↓', 'move the focus'],
  ['Shift + arrows', 'extend the selection'],
  ['Click · Shift-click · Ctrl/⌘-click', 'select · select a range · add or remove one'],
  ['Enter · Space · double-click', 'open the image'],
  ['Esc', 'clear the selection'],
];

export const LABEL_KEYS: [string, string][] = [
  ['1 – 9', 'label the selection with the class at that number'],
  ['/ or c', 'search classes (Enter assigns, or creates a new class)'],
  ['0 · Backspace', 'remove the label'],
  ['x', 'exclude from training, or include again'],
  ['n', 'next unlabeled image'],
  ['Ctrl/⌘ + Z', 'undo'],
  ['Ctrl/⌘ + Shift + Z · Ctrl + Y', 'redo'],
  ['?', 'this list'],
];

export const DETAIL_KEYS: [string, string][] = [
  ['← →', 'previous / next image'],
  ['1 – 9 · 0 · x', 'label, clear or exclude, then go to the next image'],
  ['Esc', 'back to the grid'],
];
