/**
 * The labeling bar above the grid: what is selected, one button per class (with its number key),
 * clear / exclude, move to a split, undo / redo, and the way to the class manager, the label
 * files and the keyboard cheat-sheet. Everything here has a key too; the buttons teach the keys.
 */
import type { SplitName } from '../../../main/contract/contract';
import type { ClassInfo } from '../../../main/contract/calls-labels';
import type { Labeling } from './use-labeling';
import { classKey, NUMBER_KEY_CLASSES } from './keys';
import { UndoRedoButtons } from './UndoRedoButtons';

export function LabelToolbar({
  labeling,
  selected,
  testLocked,
  hint,
  onAssign,
  onClear,
  onToggleExclude,
  onMoveSplit,
  onPickClass,
  onManageClasses,
  onLabelFiles,
  onHelp,
}: {
  labeling: Labeling;
  /** images the buttons apply to (the selection, else the focused image) */
  selected: number;
  testLocked: boolean;
  /** a short answer to the last key press that did nothing (e.g. no class at that number) */
  hint: string | null;
  onAssign: (cls: ClassInfo) => void;
  onClear: () => void;
  onToggleExclude: () => void;
  onMoveSplit: (split: SplitName | null) => void;
  onPickClass: () => void;
  onManageClasses: () => void;
  onLabelFiles: () => void;
  onHelp: () => void;
}) {
  const classes = labeling.classes ?? [];
  const none = selected === 0;
  return (
    <div className="label-toolbar" data-testid="label-toolbar">
      <div className="label-toolbar-row">
        <span className="selection-count small" data-testid="selection-count" data-count={selected} title="Click an image, or focus the grid and use the arrow keys">
          {none ? 'No image selected' : selected === 1 ? '1 image' : `${selected.toLocaleString('en-US')} images`}
        </span>
        <div className="class-buttons" role="group" aria-label="Label as">
          {classes.slice(0, NUMBER_KEY_CLASSES).map((c, i) => (
            <button key={c.id} className="class-button" disabled={none} onClick={() => onAssign(c)} title={`Label as ${c.name} (${classKey(i)})`} data-testid={`assign-${c.name}`}>
              <kbd>{classKey(i)}</kbd>
              <span className="swatch" style={{ background: c.color }} />
              <span className="class-button-name">{c.name}</span>
            </button>
          ))}
          <button className="class-button" disabled={none} onClick={onPickClass} title="Search the classes, or create one (/ or c)" data-testid="pick-class">
            <kbd>/</kbd> {classes.length > NUMBER_KEY_CLASSES ? `${classes.length - NUMBER_KEY_CLASSES} more…` : classes.length === 0 ? 'New class…' : 'Other…'}
          </button>
        </div>
        <button className="button small" disabled={none} onClick={onClear} title="Remove the label (Backspace or Delete)" data-testid="clear-label">
          <kbd>⌫</kbd> Unlabel
        </button>
        <button className="button small" disabled={none} onClick={onToggleExclude} title="Exclude from training and evaluation, or include again; the file stays (x)" data-testid="toggle-exclude">
          <kbd>x</kbd> Exclude
        </button>
      </div>
      <div className="label-toolbar-row">
        <select
          className="select small"
          disabled={none}
          value=""
          onChange={(e) => e.target.value && onMoveSplit(e.target.value === 'none' ? null : (e.target.value as SplitName))}
          data-testid="move-split"
          title="Move to a split by hand (a re-split keeps it there)"
        >
          <option value="">Move to split…</option>
          <option value="train">train</option>
          <option value="val">val</option>
          <option value="test" disabled={testLocked}>
            test{testLocked ? ' (locked)' : ''}
          </option>
          <option value="none">no split</option>
        </select>
        {/* Its width never depends on its text (see .edit-status), so "Undid: …" and the summaries in
            the undo / redo buttons appearing or growing never move the buttons to another line. */}
        <div className="edit-status">
          <UndoRedoButtons labeling={labeling} />
          <span className="last-edit muted small" data-testid="last-edit" aria-live="polite">
            {/* the undo button already names the last edit: say only what it does not */}
            {hint ?? (labeling.lastEdit !== labeling.journal?.undoSummary ? labeling.lastEdit : null) ?? ''}
          </span>
        </div>
        <button className="button small" onClick={onManageClasses} data-testid="manage-classes">
          Classes…
        </button>
        <button className="button small" onClick={onLabelFiles} data-testid="label-files">
          Import / export labels…
        </button>
        <button className="button small" onClick={onHelp} title="Keyboard shortcuts (?)" data-testid="keyboard-help-open">
          <kbd>?</kbd> Keys
        </button>
      </div>
    </div>
  );
}
