/** Project totals, counts per class and split (click a class to filter the grid), and sources. */
import type { ProjectStatus } from '../../../main/api/contract';
import type { ClassFilter, View } from './FilterBar';

export function ProjectSidebar({
  status,
  activeClass,
  onPickClass,
  onPickView,
}: {
  status: ProjectStatus | null;
  activeClass: ClassFilter;
  onPickClass: (c: ClassFilter) => void;
  onPickView: (v: View) => void;
}) {
  if (!status) return <aside className="sidebar muted">Loading…</aside>;
  const totals: { key: string; label: string; value: number; view?: View; classFilter?: ClassFilter }[] = [
    { key: 'images', label: 'images', value: status.images, view: 'ok' },
    { key: 'labeled', label: 'labeled', value: status.labeled },
    { key: 'unlabeled', label: 'unlabeled', value: status.unlabeled, classFilter: 'unlabeled' },
    { key: 'rejected', label: 'rejected', value: status.rejected, view: 'rejected' },
    { key: 'duplicates', label: 'duplicates', value: status.duplicates, view: 'duplicate' },
    { key: 'missing', label: 'missing', value: status.missing, view: 'missing' },
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
        <h3>Classes</h3>
        {status.classes.length === 0 ? (
          <p className="muted small">No classes yet. Import a folder whose sub-folders are the classes.</p>
        ) : (
          <table className="table class-table" data-testid="class-table">
            <thead>
              <tr>
                <th>Class</th>
                <th className="num">All</th>
                <th className="num">train</th>
                <th className="num">val</th>
                <th className="num">test</th>
                <th className="num" title="not assigned to a split yet">—</th>
              </tr>
            </thead>
            <tbody>
              {status.classes.map((c) => (
                <tr key={c.id} className={activeClass === c.id ? 'active' : ''} onClick={() => onPickClass(activeClass === c.id ? 'all' : c.id)} data-testid={`class-row-${c.name}`}>
                  <td>
                    <span className="swatch" style={{ background: c.color }} />
                    {c.name}
                  </td>
                  <td className="num" data-testid={`class-count-${c.name}`}>
                    {c.count.toLocaleString('en-US')}
                  </td>
                  <td className="num">{c.bySplit.train}</td>
                  <td className="num">{c.bySplit.val}</td>
                  <td className="num">{c.bySplit.test}</td>
                  <td className="num">{c.bySplit.none}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <td>Splits</td>
                <td className="num">{(status.splits.train + status.splits.val + status.splits.test + status.splits.none).toLocaleString('en-US')}</td>
                <td className="num">{status.splits.train}</td>
                <td className="num">{status.splits.val}</td>
                <td className="num">{status.splits.test}</td>
                <td className="num">{status.splits.none}</td>
              </tr>
            </tfoot>
          </table>
        )}
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
