/**
 * Project totals, counts per class and split in the classes' order (click a class to filter the
 * grid), warnings for classes too small to train on, the test-split lock, and sources.
 */
import { useMemo } from 'react';
import type { ClassCount, ProjectStatus } from '../../../main/contract/contract';
import type { SplitSummary } from '../../../main/contract/calls-data';
import type { ClassInfo } from '../../../main/contract/calls-labels';
import type { ClassFilter, View } from './FilterBar';
import { classKey } from '../labeling/keys';

/** Below this many images a class trains poorly and its validation / test counts say little. */
export const FEW_IMAGES = 10;

/**
 * What is wrong with a class for training, in words: the engine's warnings (split.get: too small
 * to train on) first, then a softer note for classes with few images; null when it is fine.
 */
function classWarning(c: ClassCount, engineWarnings: string[]): string | null {
  const engine = engineWarnings.find((w) => w.startsWith(`class "${c.name}"`));
  if (engine) return engine.slice(`class "${c.name}" `.length);
  if (c.count < FEW_IMAGES) return `only ${c.count} images: few to learn from and to check (aim for ${FEW_IMAGES} or more)`;
  return null;
}

export function ProjectSidebar({
  status,
  classes,
  split,
  activeClass,
  onPickClass,
  onPickView,
  onManageClasses,
  onLockTest,
  onOpenSplit,
}: {
  status: ProjectStatus | null;
  /** the classes in their order (number keys); the status may list them in another */
  classes: ClassInfo[] | null;
  /** the split as training sees it: the test lock and the engine's warnings */
  split: SplitSummary | null;
  activeClass: ClassFilter;
  onPickClass: (c: ClassFilter) => void;
  onPickView: (v: View) => void;
  onManageClasses: () => void;
  onLockTest: (locked: boolean) => void;
  /** the split panel (fractions, counts per class), as on the Train tab */
  onOpenSplit: () => void;
}) {
  const ordered = useMemo(() => {
    if (!status) return [];
    const position = new Map(classes?.map((c, i) => [c.id, i]) ?? []);
    return [...status.classes].sort((a, b) => (position.get(a.id) ?? Infinity) - (position.get(b.id) ?? Infinity));
  }, [status, classes]);
  const engineWarnings = split?.warnings;
  const warnings = useMemo(() => {
    const found = new Map<number, string>();
    for (const c of ordered) {
      const warning = classWarning(c, engineWarnings ?? []);
      if (warning) found.set(c.id, warning);
    }
    return found;
  }, [ordered, engineWarnings]);
  // the engine's warnings about the whole project (e.g. nothing split yet), not about one class
  const projectWarnings = (engineWarnings ?? []).filter((w) => !w.startsWith('class "'));
  const testLocked = split?.locked ?? false;
  if (!status) return <aside className="sidebar muted">Loading…</aside>;
  const totals: { key: string; label: string; value: number; view?: View; classFilter?: ClassFilter }[] = [
    { key: 'images', label: 'images', value: status.images, view: 'ok' },
    { key: 'labeled', label: 'labeled', value: status.labeled },
    { key: 'unlabeled', label: 'unlabeled', value: status.unlabeled, classFilter: 'unlabeled' },
    { key: 'rejected', label: 'rejected', value: status.rejected, view: 'rejected' },
    { key: 'duplicates', label: 'duplicates', value: status.duplicates, view: 'duplicate' },
    { key: 'missing', label: 'missing', value: status.missing, view: 'missing' },
    { key: 'excluded', label: 'excluded', value: status.excluded, view: 'excluded' },
  ];
  return (
    <aside className="sidebar" data-testid="project-sidebar">
      <section>
        <div className="totals">
          {totals.map((t) => (
            <button
              key={t.key}
              className="total"
              data-testid={`total-${t.key}`}
              data-value={t.value}
              onClick={() => (t.classFilter ? onPickClass(t.classFilter) : t.view ? onPickView(t.view) : onPickClass('all'))}
            >
              <span className="total-value">{t.value.toLocaleString('en-US')}</span>
              <span className="total-label">{t.label}</span>
            </button>
          ))}
        </div>
      </section>

      <section>
        <div className="section-head">
          <h3>Classes and splits</h3>
          <button className="button small" onClick={onManageClasses} data-testid="sidebar-manage-classes">
            Manage…
          </button>
        </div>
        {status.classes.length === 0 ? (
          <p className="muted small">No classes yet. Import a folder whose sub-folders are the classes, or select images and press / to name a new class.</p>
        ) : (
          <table className="table class-table" data-testid="class-table">
            <thead>
              <tr>
                <th title="number key">#</th>
                <th>Class</th>
                <th className="num">All</th>
                <th className="num">train</th>
                <th className="num">val</th>
                <th className="num">test{testLocked ? ' 🔒' : ''}</th>
                <th className="num" title="not assigned to a split yet">—</th>
              </tr>
            </thead>
            <tbody>
              {ordered.map((c, i) => {
                const warning = warnings.get(c.id);
                return (
                  <tr
                    key={c.id}
                    className={`${activeClass === c.id ? 'active' : ''}${warning ? ' warn' : ''}`}
                    onClick={() => onPickClass(activeClass === c.id ? 'all' : c.id)}
                    data-testid={`class-row-${c.name}`}
                  >
                    <td className="muted">{classKey(i) !== null ? <kbd>{classKey(i)}</kbd> : null}</td>
                    <td className="class-cell" title={warning ?? c.name}>
                      <span className="swatch" style={{ background: c.color }} />
                      {c.name}
                      {warning && (
                        <span className="warn-mark" aria-label={warning}>
                          {' '}
                          ⚠
                        </span>
                      )}
                    </td>
                    <td className="num" data-testid={`class-count-${c.name}`}>
                      {c.count.toLocaleString('en-US')}
                    </td>
                    <td className="num" data-testid={`class-train-${c.name}`}>
                      {c.bySplit.train}
                    </td>
                    <td className="num" data-testid={`class-val-${c.name}`}>
                      {c.bySplit.val}
                    </td>
                    <td className="num" data-testid={`class-test-${c.name}`}>
                      {c.bySplit.test}
                    </td>
                    <td className="num">{c.bySplit.none}</td>
                  </tr>
                );
              })}
              <tr className={activeClass === 'unlabeled' ? 'active' : ''} onClick={() => onPickClass(activeClass === 'unlabeled' ? 'all' : 'unlabeled')} data-testid="class-row-unlabeled">
                <td />
                <td className="muted">unlabeled</td>
                <td className="num muted" data-testid="class-count-unlabeled">
                  {status.unlabeled.toLocaleString('en-US')}
                </td>
                <td className="muted small" colSpan={4}>
                  not used for training
                </td>
              </tr>
            </tbody>
            <tfoot>
              <tr>
                <td />
                <td>Splits</td>
                <td className="num">{(status.splits.train + status.splits.val + status.splits.test + status.splits.none).toLocaleString('en-US')}</td>
                <td className="num" data-testid="split-count-train">
                  {status.splits.train}
                </td>
                <td className="num" data-testid="split-count-val">
                  {status.splits.val}
                </td>
                <td className="num" data-testid="split-count-test">
                  {status.splits.test}
                </td>
                <td className="num">{status.splits.none}</td>
              </tr>
            </tfoot>
          </table>
        )}
        {(warnings.size > 0 || projectWarnings.length > 0) && (
          <ul className="class-warnings small" data-testid="class-warnings">
            {projectWarnings.map((w) => (
              <li key={w}>⚠ {w}</li>
            ))}
            {ordered
              .filter((c) => warnings.has(c.id))
              .map((c) => (
                <li key={c.id}>
                  ⚠ <strong>{c.name}</strong>: {warnings.get(c.id)}
                </li>
              ))}
          </ul>
        )}
        <div className="split-lock-row">
          <button className="button small" onClick={onOpenSplit} data-testid="sidebar-split-open" title="Split each class into train, validation and test at the fractions you choose">
            Split…
          </button>
          <button className="button small" onClick={() => onLockTest(!testLocked)} data-testid="test-lock" data-locked={testLocked} title="While locked, no image enters or leaves the test split (re-splits and hand moves are refused)">
            {testLocked ? '🔒 Test split locked: unlock' : 'Lock the test split'}
          </button>
        </div>
      </section>

      <section>
        <h3>Sources</h3>
        {status.sources.length === 0 ? (
          <p className="muted small">No folders imported yet.</p>
        ) : (
          <ul className="sources" data-testid="sources">
            {status.sources.map((s) => (
              <li key={s.folder}>
                <span className="mono wrap">{s.folder}</span>
                <span className="muted small">
                  {s.labelsFromFolders ? 'labels from folders' : 'unlabeled'} · {s.lastImportAt ? `imported ${new Date(s.lastImportAt).toLocaleString()}` : 'not imported yet'}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </aside>
  );
}
