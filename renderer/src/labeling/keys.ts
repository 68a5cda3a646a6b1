/**
 * The labeling keys, shared by the grid and the detail view so both answer the same key the same
 * way: number keys assign the class at that position (1–9 the first nine, 0 the tenth, as on the
 * keyboard's number row), Backspace / Delete clear, x excludes, n jumps to the next unlabeled
 * image, / or c opens the class search, ctrl+z / ctrl+shift+z / ctrl+y undo and redo, ? shows the
 * cheat-sheet.
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

/** Classes that have a number key: 1–9, then 0 for the tenth. The others are reached with / (search). */
export const NUMBER_KEY_CLASSES = 10;

/** The number key of the class at `position` (0-based): '1'…'9', '0' for the tenth, null beyond. */
export function classKey(position: number): string | null {
  if (!Number.isInteger(position) || position < 0 || position >= NUMBER_KEY_CLASSES) return null;
  return position === 9 ? '0' : String(position + 1);
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
  if (/^[0-9]$/.test(key)) return { kind: 'assign', position: key === '0' ? 9 : Number(key) - 1 };
  if (key === 'Backspace' || key === 'Delete') return { kind: 'clear' };
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
  ['1 – 9, 0', 'label the selection with the class at that number (0 is the 10th class)'],
  ['/ or c', 'search classes (Enter assigns, or creates a new class)'],
  ['Backspace · Delete', 'remove the label'],
  ['x', 'exclude from training, or include again'],
  ['n', 'next unlabeled image'],
  ['Ctrl/⌘ + Z', 'undo'],
  ['Ctrl/⌘ + Shift + Z · Ctrl + Y', 'redo'],
  ['?', 'this list'],
];

export const DETAIL_KEYS: [string, string][] = [
  ['← →', 'previous / next image'],
  ['1 – 9, 0 · Backspace · x', 'label, clear or exclude, then go to the next image'],
  ['Esc', 'back to the grid'],
];
