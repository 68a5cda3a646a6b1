/**
 * Focus and selection in the grid. The focus is a position in the current list; the selection is
 * a set of image ids, or null while it is just the focused image (plain clicks and arrows), so a
 * list that changes under the user (labeled images leaving the "unlabeled" view) never leaves
 * an invisible image selected: ids that left the list are dropped from the selection.
 */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { ImagePages } from '../grid/image-pages';

export interface GridSelectionState {
  focus: number | null;
  anchor: number | null;
  /** explicit multi-selection (ids); null = the focused image only */
  ids: ReadonlySet<number> | null;
}

export interface GridSelection extends GridSelectionState {
  /** how many images an action applies to */
  count: number;
  isSelected(id: number, index: number): boolean;
  /** the ids an action applies to: the selection, else the focused image */
  targets(): number[];
  click(index: number, mode: 'plain' | 'toggle' | 'range'): void;
  moveTo(index: number, extend: boolean): void;
  clear(): void;
  setFocus(index: number | null): void;
}

const EMPTY: GridSelectionState = { focus: null, anchor: null, ids: null };

export function useGridSelection(pages: ImagePages): GridSelection {
  const version = useSyncExternalStore(pages.subscribe, pages.getVersion);
  const [state, setState] = useState<GridSelectionState>(EMPTY);

  // A new list (other filter) starts without a selection.
  useEffect(() => setState(EMPTY), [pages]);

  // Keep the focus inside the list, and drop selected images the list no longer holds.
  useEffect(() => {
    setState((s) => {
      const total = pages.total ?? 0;
      let next = s;
      if (s.focus !== null && s.focus >= total) next = { ...next, focus: total > 0 ? total - 1 : null, anchor: total > 0 ? Math.min(s.anchor ?? 0, total - 1) : null };
      if (s.ids && pages.total !== null) {
        const loaded = pages.loadedIds();
        const kept = [...s.ids].filter((id) => loaded.has(id));
        if (kept.length !== s.ids.size) next = { ...next, ids: kept.length > 0 ? new Set(kept) : null };
      }
      return next;
    });
  }, [pages, version]);

  const rangeIds = useCallback(
    (from: number, to: number): Set<number> => {
      const ids = new Set<number>();
      const [a, b] = from <= to ? [from, to] : [to, from];
      for (let i = a; i <= b; i++) {
        const image = pages.get(i);
        if (image) ids.add(image.id);
      }
      return ids;
    },
    [pages],
  );

  // A range can reach rows never scrolled into view (shift+End): load their pages, then take the
  // range again, as long as it is still the one the user made.
  useEffect(() => {
    const { anchor, focus, ids } = state;
    if (anchor === null || focus === null || ids === null) return;
    const [a, b] = anchor <= focus ? [anchor, focus] : [focus, anchor];
    if (ids.size >= b - a + 1) return;
    let current = true;
    const missingPages = new Set<number>();
    for (let i = a; i <= b; i++) if (!pages.get(i)) missingPages.add(Math.floor(i / pages.pageSize));
    if (missingPages.size === 0) return;
    void Promise.all([...missingPages].map((page) => pages.ensure(page * pages.pageSize))).then(() => {
      if (!current) return;
      // Only a larger range is news: a page that failed (or was evicted) must not start a loop.
      const grown = rangeIds(anchor, focus);
      setState((s) => (s.anchor === anchor && s.focus === focus && s.ids && grown.size > s.ids.size ? { ...s, ids: grown } : s));
    });
    return () => {
      current = false;
    };
  }, [state, pages, rangeIds]);

  const focusedId = state.focus === null ? undefined : pages.get(state.focus)?.id;

  const click = useCallback(
    (index: number, mode: 'plain' | 'toggle' | 'range') => {
      setState((s) => {
        if (mode === 'range' && s.anchor !== null) return { ...s, focus: index, ids: rangeIds(s.anchor, index) };
        if (mode === 'toggle') {
          const id = pages.get(index)?.id;
          if (id === undefined) return s;
          const ids = new Set(s.ids ?? (s.focus !== null && pages.get(s.focus) ? [pages.get(s.focus)!.id] : []));
          if (ids.has(id)) ids.delete(id);
          else ids.add(id);
          return { focus: index, anchor: index, ids };
        }
        return { focus: index, anchor: index, ids: null };
      });
    },
    [pages, rangeIds],
  );

  const moveTo = useCallback(
    (index: number, extend: boolean) => {
      const total = pages.total ?? 0;
      if (total === 0) return;
      const target = Math.max(0, Math.min(total - 1, index));
      setState((s) => {
        if (extend) {
          const anchor = s.anchor ?? s.focus ?? target;
          return { focus: target, anchor, ids: rangeIds(anchor, target) };
        }
        return { focus: target, anchor: target, ids: null };
      });
    },
    [pages, rangeIds],
  );

  const clear = useCallback(() => setState((s) => (s.ids ? { ...s, ids: null, anchor: s.focus } : EMPTY)), []);
  const setFocus = useCallback((index: number | null) => setState({ focus: index, anchor: index, ids: null }), []);

  const targets = useCallback((): number[] => {
    if (state.ids) return [...state.ids];
    return focusedId === undefined ? [] : [focusedId];
  }, [state.ids, focusedId]);

  const isSelected = useCallback((id: number, index: number) => (state.ids ? state.ids.has(id) : index === state.focus), [state.ids, state.focus]);

  return { ...state, count: state.ids ? state.ids.size : focusedId === undefined ? 0 : 1, isSelected, targets, click, moveTo, clear, setFocus };
}
