/** Which images the grid shows: usable / excluded / rejected / duplicates / missing, a class, a path search. */
import { useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { ImageFilter, ProjectStatus } from '../../../main/contract/contract';
import type { ImagePages } from '../grid/image-pages';
import { MAX_SEARCH_LENGTH } from '../../../main/contract/calls-images';

export type View = 'ok' | 'excluded' | 'rejected' | 'duplicate' | 'missing';
export type ClassFilter = 'all' | 'unlabeled' | number;

export interface FilterState {
  view: View;
  classFilter: ClassFilter;
  search: string;
}

export function toImageFilter({ view, classFilter, search }: FilterState): ImageFilter {
  const filter: ImageFilter = view === 'missing' ? { missing: true } : view === 'excluded' ? { status: 'ok', excluded: true } : { status: view };
  if (classFilter === 'unlabeled') filter.unlabeled = true;
  else if (classFilter !== 'all') filter.classId = classFilter;
  if (search.trim()) filter.search = search.trim();
  return filter;
}

const SEARCH_DELAY_MS = 250;

export function FilterBar({ status, filter, onChange, pages, extra }: { status: ProjectStatus | null; filter: FilterState; onChange: (f: FilterState) => void; pages: ImagePages; extra?: ReactNode }) {
  useSyncExternalStore(pages.subscribe, pages.getVersion);
  const [search, setSearch] = useState(filter.search);

  // Typing should not hit the database on every key.
  useEffect(() => {
    if (search === filter.search) return;
    const timer = setTimeout(() => onChange({ ...filter, search }), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [search, filter, onChange]);

  const views: { view: View; label: string; count: number | undefined }[] = [
    // usable images, the excluded ones among them (shown with a badge, x includes them again)
    { view: 'ok', label: 'Images', count: status ? status.images + status.excluded : undefined },
    { view: 'excluded', label: 'Excluded', count: status?.excluded },
    { view: 'rejected', label: 'Rejected', count: status?.rejected },
    { view: 'duplicate', label: 'Duplicates', count: status?.duplicates },
    { view: 'missing', label: 'Missing', count: status?.missing },
  ];

  return (
    <div className="filter-bar" data-testid="filter-bar">
      <div className="segmented" role="tablist">
        {views.map((v) => (
          <button
            key={v.view}
            role="tab"
            aria-selected={filter.view === v.view}
            className={filter.view === v.view ? 'active' : ''}
            // The badge counts are project totals, so switching view shows all classes, matching the badge.
            onClick={() => onChange({ ...filter, view: v.view, classFilter: 'all' })}
            data-testid={`filter-view-${v.view}`}
          >
            {v.label}
            {v.count !== undefined && <span className="count">{v.count.toLocaleString('en-US')}</span>}
          </button>
        ))}
      </div>
      <select
        className="select"
        data-testid="filter-class"
        value={String(filter.classFilter)}
        onChange={(e) => {
          const value = e.target.value;
          onChange({ ...filter, classFilter: value === 'all' || value === 'unlabeled' ? value : Number(value) });
        }}
      >
        <option value="all">All classes</option>
        <option value="unlabeled">Unlabeled{status ? ` (${status.unlabeled.toLocaleString('en-US')})` : ''}</option>
        {status?.classes.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name} ({c.count.toLocaleString('en-US')})
          </option>
        ))}
      </select>
      <input className="search" type="search" placeholder="Search paths…" maxLength={MAX_SEARCH_LENGTH} value={search} onChange={(e) => setSearch(e.target.value)} data-testid="filter-search" />
      <span className="filter-total muted small" data-testid="grid-total">
        {pages.total === null ? 'Loading…' : `${pages.total.toLocaleString('en-US')} shown`}
      </span>
      {extra}
    </div>
  );
}
