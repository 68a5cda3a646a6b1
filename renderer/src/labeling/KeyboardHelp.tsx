/** The keyboard cheat-sheet (?): every labeling key, and which class each number key assigns. */
import type { ClassInfo } from '../../../main/contract/calls-labels';
import { classKey, DETAIL_KEYS, GRID_KEYS, LABEL_KEYS, NUMBER_KEY_CLASSES } from './keys';

export function KeyboardHelp({ classes, onClose }: { classes: ClassInfo[]; onClose: () => void }) {
  return (
    <div className="modal-backdrop" onClick={onClose} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <div className="dialog keyboard-help" role="dialog" aria-label="Keyboard shortcuts" data-testid="keyboard-help" onClick={(e) => e.stopPropagation()}>
        <div className="dialog-head">
          <h2>Keyboard</h2>
          <button className="icon-button" onClick={onClose} aria-label="Close" autoFocus data-testid="keyboard-help-close">
            ×
          </button>
        </div>
        <div className="keyboard-help-columns">
          <div>
            <KeyTable title="Grid" rows={GRID_KEYS} />
            <KeyTable title="Image view" rows={DETAIL_KEYS} />
          </div>
          <div>
            <KeyTable title="Labeling (grid and image view)" rows={LABEL_KEYS} />
            <h3>Number keys</h3>
            {classes.length === 0 ? (
              <p className="muted small">No classes yet: press / and type a name to create one.</p>
            ) : (
              <ul className="key-classes">
                {classes.slice(0, NUMBER_KEY_CLASSES).map((c, i) => (
                  <li key={c.id}>
                    <kbd>{classKey(i)}</kbd>
                    <span className="swatch" style={{ background: c.color }} />
                    {c.name}
                  </li>
                ))}
                {classes.length > NUMBER_KEY_CLASSES && <li className="muted small">{classes.length - NUMBER_KEY_CLASSES} more: press / to search them</li>}
              </ul>
            )}
          </div>
        </div>
      </div>
    </div>
  );
}

function KeyTable({ title, rows }: { title: string; rows: [string, string][] }) {
  return (
    <>
      <h3>{title}</h3>
      <table className="key-table">
        <tbody>
          {rows.map(([keys, what]) => (
            <tr key={keys}>
              <td>
                <kbd>{keys}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
