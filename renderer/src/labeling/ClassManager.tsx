/**
 * The class manager: every class with its colour, number key and image count; create, rename
 * (click the name), recolour, reorder (the number keys follow the order), merge into another class
 * and delete, each destructive step after a confirmation that says how many images it touches.
 * Every change is one undoable edit; the undo/redo buttons name what they will undo.
 */
import { useEffect, useRef, useState } from 'react';
import { useClient } from '../api/client-context';
import type { Client } from '../../../main/contract/client';
import type { ClassInfo } from '../../../main/contract/calls-labels';
import type { Labeling } from './use-labeling';
import { UndoRedoButtons } from './UndoRedoButtons';
import { classKey } from './keys';

type Confirm = { kind: 'merge'; from: ClassInfo; into: ClassInfo } | { kind: 'delete'; cls: ClassInfo };

/**
 * Every image a merge or delete touches: the class count covers only usable images, but the
 * excluded, missing, rejected and duplicate ones carry the label too.
 */
async function imagesWithClass(client: Client, project: string, classId: number): Promise<number> {
  const filters = (['ok', 'rejected', 'duplicate'] as const).flatMap((status) => [false, true].map((missing) => ({ classId, status, missing })));
  const totals = await Promise.all(filters.map((filter) => client.call('images.list', { project, filter, limit: 1 }).then((r) => r.total)));
  return totals.reduce((a, b) => a + b, 0);
}

export function ClassManager({ project, labeling, onClose }: { project: string; labeling: Labeling; onClose: () => void }) {
  const client = useClient();
  const classes = labeling.classes ?? [];
  /** all images of the class being merged or deleted (null while counting, or when counting failed) */
  const [touched, setTouched] = useState<number | null>(null);
  const [newName, setNewName] = useState('');
  const [renaming, setRenaming] = useState<{ id: number; name: string } | null>(null);
  const [mergeFrom, setMergeFrom] = useState<number | null>(null);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  // Esc is heard on the window, not on the dialog: right after it opens, or after a button that
  // went away (a confirmed delete), the focus is outside it. The rename field keeps its own Esc.
  const escape = useRef(() => undefined as void);
  escape.current = () => {
    if (renaming) return;
    if (confirm) setConfirm(null);
    else onClose();
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && !e.defaultPrevented && escape.current();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  // Focus starts in the dialog, so Tab walks its controls.
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => dialog.current?.focus(), []);

  const create = async () => {
    const name = newName.trim();
    if (!name) return;
    if (await labeling.classCall('classes.create', { name })) setNewName('');
  };

  const saveRename = async () => {
    if (!renaming) return;
    const current = classes.find((c) => c.id === renaming.id);
    const name = renaming.name.trim();
    setRenaming(null);
    if (current && name && name !== current.name) await labeling.classCall('classes.rename', { class: current.id, name });
  };

  const move = (index: number, delta: number) => {
    const order = classes.map((c) => c.id);
    const [id] = order.splice(index, 1);
    order.splice(index + delta, 0, id);
    void labeling.classCall('classes.reorder', { order });
  };

  useEffect(() => {
    setTouched(null);
    if (!confirm) return;
    let current = true;
    const cls = confirm.kind === 'merge' ? confirm.from : confirm.cls;
    // Counting is a courtesy: without it the confirmation still gives the usable count.
    imagesWithClass(client, project, cls.id).then((n) => current && setTouched(n), () => undefined);
    return () => {
      current = false;
    };
  }, [client, project, confirm]);

  const runConfirmed = async () => {
    if (!confirm) return;
    setConfirm(null);
    if (confirm.kind === 'merge') await labeling.classCall('classes.merge', { from: confirm.from.id, into: confirm.into.id });
    else await labeling.classCall('classes.delete', { class: confirm.cls.id });
  };

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div
        ref={dialog}
        tabIndex={-1}
        className="dialog class-manager"
        role="dialog"
        aria-label="Classes"
        data-testid="class-manager"
        onClick={(e) => e.stopPropagation()}
      >
        <div className="dialog-head">
          <h2>Classes</h2>
          <UndoRedoButtons labeling={labeling} />
          <button className="icon-button" onClick={onClose} aria-label="Close" data-testid="class-manager-close">
            ×
          </button>
        </div>
        <p className="muted small">Number keys 1–9, then 0 for the 10th, label with the class at that place; reorder to change them. Names are unique (ignoring case), in any language.</p>
        <table className="table class-manager-table">
          <thead>
            <tr>
              <th title="number key">Key</th>
              <th>Colour</th>
              <th>Name</th>
              <th className="num">Images</th>
              <th>Order</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {classes.map((c, i) => (
              <tr key={c.id} data-testid={`manage-class-${c.name}`}>
                <td>{classKey(i) !== null ? <kbd>{classKey(i)}</kbd> : <span className="muted small">/</span>}</td>
                <td>
                  <ColorInput color={c.color} name={c.name} onCommit={(color) => void labeling.classCall('classes.recolor', { class: c.id, color })} />
                </td>
                <td className="class-name-cell">
                  {renaming?.id === c.id ? (
                    <input
                      className="rename-input"
                      autoFocus
                      value={renaming.name}
                      data-testid={`class-rename-input-${c.name}`}
                      onChange={(e) => setRenaming({ id: c.id, name: e.target.value })}
                      onBlur={saveRename}
                      onKeyDown={(e) => {
                        if (e.key === 'Enter') void saveRename();
                        if (e.key === 'Escape') setRenaming(null);
                        e.stopPropagation();
                      }}
                    />
                  ) : (
                    <button className="class-name-button" title="Rename" onClick={() => setRenaming({ id: c.id, name: c.name })} data-testid={`class-rename-${c.name}`}>
                      {c.name}
                      <span className="edit-hint" aria-hidden>
                        ✎
                      </span>
                    </button>
                  )}
                </td>
                <td className="num" data-testid={`manage-count-${c.name}`}>
                  {c.count.toLocaleString('en-US')}
                </td>
                <td className="order-buttons">
                  <button className="icon-button" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move ${c.name} up`} data-testid={`class-up-${c.name}`}>
                    ↑
                  </button>
                  <button className="icon-button" disabled={i === classes.length - 1} onClick={() => move(i, 1)} aria-label={`Move ${c.name} down`} data-testid={`class-down-${c.name}`}>
                    ↓
                  </button>
                </td>
                <td>
                  <div className="class-actions">
                    {mergeFrom === c.id ? (
                      <select
                        className="select"
                        autoFocus
                        value=""
                        data-testid={`class-merge-target-${c.name}`}
                        onChange={(e) => {
                          const into = classes.find((x) => x.id === Number(e.target.value));
                          setMergeFrom(null);
                          if (into) setConfirm({ kind: 'merge', from: c, into });
                        }}
                        onBlur={() => setMergeFrom(null)}
                      >
                        <option value="">Merge into…</option>
                        {classes
                          .filter((x) => x.id !== c.id)
                          .map((x) => (
                            <option key={x.id} value={x.id}>
                              {x.name}
                            </option>
                          ))}
                      </select>
                    ) : (
                      <button className="button small" disabled={classes.length < 2} onClick={() => setMergeFrom(c.id)} data-testid={`class-merge-${c.name}`}>
                        Merge…
                      </button>
                    )}
                    <button className="button small danger" onClick={() => setConfirm({ kind: 'delete', cls: c })} data-testid={`class-delete-${c.name}`}>
                      Delete…
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {confirm && (
          <div className="confirm-box" role="alertdialog" data-testid="class-confirm">
            <p data-testid="class-confirm-text">
              {confirm.kind === 'merge' ? (
                <>
                  Move all {plural(confirm.from.count, 'image')} of <strong>{confirm.from.name}</strong> into <strong>{confirm.into.name}</strong> (then {confirm.into.count + confirm.from.count}) and remove{' '}
                  <strong>{confirm.from.name}</strong>?{otherImages(touched, confirm.from.count, 'move too')}
                </>
              ) : (
                <>
                  Delete <strong>{confirm.cls.name}</strong>?{' '}
                  {(touched ?? confirm.cls.count) === 0 ? 'It has no images.' : `${plural(touched ?? confirm.cls.count, 'image')} will become unlabeled.`}
                  {otherImages(touched, confirm.cls.count, 'among them')}
                </>
              )}{' '}
              <span className="muted">You can undo this.</span>
            </p>
            <div className="dialog-actions">
              <button className="button" onClick={() => setConfirm(null)} data-testid="class-confirm-cancel">
                Cancel
              </button>
              <button className={`button ${confirm.kind === 'delete' ? 'danger' : 'primary'}`} autoFocus onClick={runConfirmed} data-testid="class-confirm-ok">
                {confirm.kind === 'merge' ? `Merge into ${confirm.into.name}` : `Delete ${confirm.cls.name}`}
              </button>
            </div>
          </div>
        )}
        <form
          className="new-class-row"
          onSubmit={(e) => {
            e.preventDefault();
            void create();
          }}
        >
          <input placeholder="New class name" value={newName} onChange={(e) => setNewName(e.target.value)} data-testid="class-new-name" maxLength={100} />
          <button className="button primary" type="submit" disabled={!newName.trim()} data-testid="class-new-create">
            Add class
          </button>
        </form>
        {labeling.lastEdit && labeling.lastEdit !== labeling.journal?.undoSummary && (
          <p className="muted small" data-testid="class-manager-last">
            {labeling.lastEdit}
          </p>
        )}
      </div>
    </div>
  );
}

/** The images beyond the usable count (excluded, missing, rejected), when there are any. */
function otherImages(touched: number | null, usable: number, words: string): string {
  if (touched === null || touched <= usable) return '';
  const others = touched - usable;
  return ` (${plural(others, 'excluded, missing or rejected image')} ${words})`;
}

export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A colour input that saves once, when the picker closes (the DOM "change" event): React's
 * onChange fires on every step of a drag, which would make one undo entry per step.
 */
function ColorInput({ color, name, onCommit }: { color: string; name: string; onCommit: (color: string) => void }) {
  const ref = useRef<HTMLInputElement>(null);
  const [value, setValue] = useState(color);
  const latest = useRef({ color, onCommit });
  latest.current = { color, onCommit };
  useEffect(() => setValue(color), [color]);
  useEffect(() => {
    const input = ref.current;
    if (!input) return;
    const commit = () => input.value.toLowerCase() !== latest.current.color.toLowerCase() && latest.current.onCommit(input.value);
    input.addEventListener('change', commit);
    return () => input.removeEventListener('change', commit);
  }, []);
  return <input ref={ref} type="color" className="color-input" value={value} onChange={(e) => setValue(e.target.value)} aria-label={`Colour of ${name}`} data-testid={`class-color-${name}`} />;
}
