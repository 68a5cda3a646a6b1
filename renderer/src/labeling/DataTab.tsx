/**
 * The Data tab: the sidebar (totals, classes and splits, sources), the filter and labeling bars,
 * the grid with its selection and keys, the detail view, and the labeling dialogs (class search,
 * class manager, label files, cheat-sheet); or, instead of the grid, the model-assisted view.
 * Every key works on the selection, or on the focused image when nothing is selected.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useClient, useEvent, useReportError } from '../api/client-context';
import type { ImageDetail, ProjectStatus } from '../../../main/contract/contract';
import type { SplitSummary } from '../../../main/contract/calls-data';
import type { ImagePages } from '../grid/image-pages';
import { ImageGrid } from '../grid/ImageGrid';
import { ImageDetailView } from '../components/ImageDetailView';
import { ProjectSidebar } from '../components/ProjectSidebar';
import { FilterBar, type FilterState } from '../components/FilterBar';
import { useLabeling } from './use-labeling';
import { useGridSelection } from './use-grid-selection';
import { classKey, labelKeyAction, type LabelKeyAction } from './keys';
import { LabelToolbar } from './LabelToolbar';
import { ClassPicker, type PickedClass } from './ClassPicker';
import { ClassManager } from './ClassManager';
import { KeyboardHelp } from './KeyboardHelp';
import { LabelFilesDialog } from './LabelFilesDialog';
import { AssistView } from './AssistView';
import { SplitDialog } from '../training/SplitPanel';

const HINT_MS = 6000;

type Dialog = null | 'classes' | 'files' | 'help' | 'split' | { picker: number[]; from: 'grid' | 'detail' };

export function DataTab({
  project,
  status,
  filter,
  onFilterChange,
  pages,
  onChanged,
}: {
  project: string;
  status: ProjectStatus | null;
  filter: FilterState;
  onFilterChange: (update: (f: FilterState) => FilterState) => void;
  pages: ImagePages;
  /** refresh the counts and the grid (after any change) */
  onChanged: () => void;
}) {
  const client = useClient();
  const reportError = useReportError();
  const [split, setSplit] = useState<SplitSummary | null>(null);
  const readSplit = useCallback(() => {
    client.call('split.get', { project }).then(setSplit, (err) => reportError(err, 'Cannot read the split'));
  }, [client, project, reportError]);
  useEffect(readSplit, [readSplit]);
  useEvent('project.changed', readSplit);

  const changed = useCallback(() => {
    onChanged();
    readSplit();
  }, [onChanged, readSplit]);
  const labeling = useLabeling(project, changed);
  const selection = useGridSelection(pages);
  const [detailIndex, setDetailIndex] = useState<number | null>(null);
  const [mode, setMode] = useState<'grid' | 'assist'>('grid');
  const [dialog, setDialog] = useState<Dialog>(null);
  const [hint, setHint] = useState<string | null>(null);
  const [focusRequest, setFocusRequest] = useState(0);
  const refocusGrid = () => setFocusRequest((n) => n + 1);

  useEffect(() => setDetailIndex(null), [pages]);
  // A hint answers one key press: the next action's result replaces it, or it fades.
  useEffect(() => setHint(null), [labeling.lastEdit, labeling.journal]);
  useEffect(() => {
    if (hint === null) return;
    const timer = setTimeout(() => setHint(null), HINT_MS);
    return () => clearTimeout(timer);
  }, [hint]);

  const colors = useMemo(() => new Map((labeling.classes ?? status?.classes ?? []).map((c) => [c.id, c.color])), [labeling.classes, status]);
  const classColor = useCallback((classId: number | null) => (classId === null ? undefined : colors.get(classId)), [colors]);
  const thumbUrl = useCallback((id: number) => client.mediaUrl('thumb', project, id), [client, project]);
  const fullUrl = useCallback((id: number) => client.mediaUrl('full', project, id), [client, project]);

  const closeDialog = () => {
    const wasFromDetail = typeof dialog === 'object' && dialog?.from === 'detail';
    setDialog(null);
    if (!wasFromDetail && detailIndex === null) refocusGrid();
  };

  const excludedNow = (ids: number[]) =>
    ids.every((id) => {
      const index = pages.indexOfId(id);
      return index !== null && pages.get(index)?.excluded === true;
    });

  /** A labeling key or button on `ids`; true when the images changed (the detail view moves on). */
  const runAction = async (action: LabelKeyAction, ids: number[], from: 'grid' | 'detail'): Promise<boolean> => {
    setHint(null);
    switch (action.kind) {
      case 'assign': {
        const cls = labeling.classes?.[action.position];
        if (!cls) {
          setHint(`No class has number ${classKey(action.position)}${action.position === 9 ? ' (the 10th)' : ''}: press / to name a new one`);
          return false;
        }
        return labeling.assign(ids, cls.id);
      }
      case 'clear':
        return labeling.assign(ids, null);
      case 'exclude':
        return labeling.exclude(ids, !excludedNow(ids));
      case 'pick-class':
        if (ids.length > 0) setDialog({ picker: ids, from });
        return false;
      case 'undo':
        await labeling.undo();
        return false;
      case 'redo':
        await labeling.redo();
        return false;
      case 'help':
        setDialog('help');
        return false;
      case 'next-unlabeled': {
        const start = (from === 'detail' ? (detailIndex ?? -1) : (selection.focus ?? -1)) + 1;
        const index = await pages.findFrom(start, (image) => image.status === 'ok' && image.classId === null && !image.excluded);
        if (index === null) setHint('No unlabeled image in this view');
        else if (from === 'detail') setDetailIndex(index);
        else selection.moveTo(index, false);
        return false;
      }
    }
  };

  /** In the detail view a label moves on, unless the image left the list (the next one took its place). */
  const advanceAfter = async (index: number, imageId: number) => {
    const now = await pages.ensure(index);
    if (now?.id === imageId) setDetailIndex((i) => (i === index && index < (pages.total ?? 0) - 1 ? index + 1 : i));
  };

  const onDetailKey = async (action: LabelKeyAction, image: ImageDetail) => {
    const index = detailIndex;
    if (index === null) return;
    const changedImages = await runAction(action, [image.id], 'detail');
    if (changedImages) await advanceAfter(index, image.id);
  };

  const onGridKey = (e: React.KeyboardEvent<HTMLDivElement>, columns: number) => {
    if (detailIndex !== null || dialog !== null) return;
    const total = pages.total ?? 0;
    const focus = selection.focus;
    const step = (delta: number) => selection.moveTo(focus === null ? 0 : focus + delta, e.shiftKey);
    switch (e.key) {
      case 'ArrowRight':
        step(1);
        break;
      case 'ArrowLeft':
        step(-1);
        break;
      case 'ArrowDown':
        if (focus === null || focus + columns < total) step(columns);
        break;
      case 'ArrowUp':
        if (focus === null || focus - columns >= 0) step(-columns);
        break;
      case 'Home':
        selection.moveTo(0, e.shiftKey);
        break;
      case 'End':
        selection.moveTo(total - 1, e.shiftKey);
        break;
      case 'Enter':
      case ' ':
        if (focus !== null) setDetailIndex(focus);
        break;
      case 'Escape':
        selection.clear();
        break;
      default: {
        const action = labelKeyAction(e);
        if (!action) return;
        void runAction(action, selection.targets(), 'grid');
      }
    }
    e.preventDefault();
  };

  // The detail view and the grid point at the same image: closing the view lands where it was.
  useEffect(() => {
    if (detailIndex !== null) selection.setFocus(detailIndex);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [detailIndex]);

  // Undo / redo from anywhere on the tab (the grid, the detail view and the assist list answer their own).
  const globalKeys = useRef({ detailIndex, dialog, labeling });
  globalKeys.current = { detailIndex, dialog, labeling };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || globalKeys.current.detailIndex !== null) return;
      const action = labelKeyAction(e);
      if (action?.kind === 'undo' || action?.kind === 'redo') {
        e.preventDefault();
        void (action.kind === 'undo' ? globalKeys.current.labeling.undo() : globalKeys.current.labeling.redo());
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const pick = async (picked: PickedClass) => {
    if (typeof dialog !== 'object' || dialog === null) return;
    const { picker: ids, from } = dialog;
    closeDialog();
    let classId: number;
    if (picked.kind === 'existing') classId = picked.cls.id;
    else {
      const created = await labeling.classCall('classes.create', { name: picked.name });
      if (!created) return;
      classId = created.class.id;
    }
    const index = detailIndex;
    if ((await labeling.assign(ids, classId)) && from === 'detail' && index !== null) await advanceAfter(index, ids[0]);
  };

  const lockTest = async (locked: boolean) => {
    try {
      await client.call('split.lock', { project, locked });
    } catch (err) {
      reportError(err, locked ? 'Cannot lock the test split' : 'Cannot unlock the test split');
    } finally {
      changed();
    }
  };

  const targets = selection.targets;
  const classes = labeling.classes ?? [];

  return (
    <>
      <div className="project-body">
        <ProjectSidebar
          status={status}
          classes={labeling.classes}
          split={split}
          activeClass={filter.classFilter}
          onPickClass={(classFilter) => onFilterChange((f) => ({ ...f, view: 'ok', classFilter }))}
          onPickView={(view) => onFilterChange((f) => ({ ...f, view, classFilter: 'all' }))}
          onManageClasses={() => setDialog('classes')}
          onLockTest={lockTest}
          onOpenSplit={() => setDialog('split')}
        />
        <main className="browser">
          {mode === 'assist' ? (
            <>
              <div className="filter-bar">
                <button className="button small" onClick={() => setMode('grid')} data-testid="assist-close">
                  ← Back to the grid
                </button>
                <strong>Model-assisted labeling</strong>
                <span className="last-edit muted small" data-testid="last-edit">
                  {labeling.lastEdit ?? ''}
                </span>
              </div>
              <AssistView project={project} labeling={labeling} thumbUrl={thumbUrl} fullUrl={fullUrl} onHelp={() => setDialog('help')} />
            </>
          ) : (
            <>
              <FilterBar
                status={status}
                filter={filter}
                onChange={(f) => onFilterChange(() => f)}
                pages={pages}
                extra={
                  <button className="button small" onClick={() => setMode('assist')} title="Suggestions of a trained model for unlabeled images, and likely label errors" data-testid="assist-open">
                    Assist…
                  </button>
                }
              />
              <LabelToolbar
                labeling={labeling}
                selected={selection.count}
                testLocked={split?.locked ?? false}
                hint={hint}
                onAssign={(cls) => void labeling.assign(targets(), cls.id)}
                onClear={() => void labeling.assign(targets(), null)}
                onToggleExclude={() => void labeling.exclude(targets(), !excludedNow(targets()))}
                onMoveSplit={(to) => void labeling.moveSplit(targets(), to)}
                onPickClass={() => setDialog({ picker: targets(), from: 'grid' })}
                onManageClasses={() => setDialog('classes')}
                onLabelFiles={() => setDialog('files')}
                onHelp={() => setDialog('help')}
              />
              <ImageGrid
                pages={pages}
                thumbUrl={thumbUrl}
                classColor={classColor}
                focus={selection.focus}
                isSelected={selection.isSelected}
                onTileClick={selection.click}
                onOpen={setDetailIndex}
                onKeyDown={onGridKey}
                focusRequest={focusRequest}
              />
            </>
          )}
        </main>
      </div>
      {mode === 'grid' && detailIndex !== null && (
        <ImageDetailView
          project={project}
          pages={pages}
          index={detailIndex}
          onIndexChange={setDetailIndex}
          onClose={() => {
            setDetailIndex(null);
            refocusGrid();
          }}
          classColor={classColor}
          classes={classes}
          onLabelKey={(action, image) => void onDetailKey(action, image)}
          paused={dialog !== null}
        />
      )}
      {typeof dialog === 'object' && dialog !== null && <ClassPicker classes={classes} targets={dialog.picker.length} onPick={(p) => void pick(p)} onClose={closeDialog} />}
      {dialog === 'classes' && <ClassManager project={project} labeling={labeling} onClose={closeDialog} />}
      {dialog === 'help' && <KeyboardHelp classes={classes} onClose={closeDialog} />}
      {dialog === 'split' && (
        <SplitDialog
          project={project}
          summary={split}
          onSplit={(summary) => {
            setSplit(summary);
            onChanged();
          }}
          onClose={closeDialog}
        />
      )}
      {dialog === 'files' && <LabelFilesDialog project={project} startFolder={status?.sources.at(-1)?.folder} onClose={closeDialog} onChanged={changed} />}
    </>
  );
}
