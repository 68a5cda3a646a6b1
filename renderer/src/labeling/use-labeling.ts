/**
 * The labeling state of an open project and the calls that change it: the classes in their order
 * (number keys follow it), the undo/redo journal, and label / exclude / split / class actions.
 * Every action reports its error in words, refreshes what it changed, and says what it did
 * (`lastEdit`), so a key press always has a visible answer.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useClient, useEvent, useReportError } from '../api/client-context';
import type { ClassInfo, ClassRef, EditInfo } from '../../../main/contract/calls-labels';
import type { CallInput, CallName, CallOutput, SplitName } from '../../../main/contract/contract';

export interface Journal {
  canUndo: boolean;
  canRedo: boolean;
  undoSummary: string | null;
  redoSummary: string | null;
  edits: EditInfo[];
}

export interface Labeling {
  classes: ClassInfo[] | null;
  journal: Journal | null;
  /** what the last action did, in words (or why nothing changed) */
  lastEdit: string | null;
  assign(imageIds: number[], cls: ClassRef | null, from?: { runId: number }): Promise<boolean>;
  exclude(imageIds: number[], excluded: boolean): Promise<boolean>;
  moveSplit(imageIds: number[], split: SplitName | null): Promise<boolean>;
  undo(): Promise<boolean>;
  redo(): Promise<boolean>;
  /** a class call (create, rename, recolor, reorder, merge, delete); null when it failed */
  classCall<N extends ClassCallName>(name: N, input: Omit<CallInput<N>, 'project'>): Promise<CallOutput<N> | null>;
  refresh(): void;
}

export type ClassCallName = Extract<CallName, 'classes.create' | 'classes.rename' | 'classes.recolor' | 'classes.reorder' | 'classes.merge' | 'classes.delete'>;

const JOURNAL_LIMIT = 20;
const LAST_EDIT_MS = 6000;

export function useLabeling(project: string, onChanged: () => void): Labeling {
  const client = useClient();
  const reportError = useReportError();
  const [classes, setClasses] = useState<ClassInfo[] | null>(null);
  const [journal, setJournal] = useState<Journal | null>(null);
  const [lastEdit, setLastEdit] = useState<string | null>(null);

  const refresh = useCallback(() => {
    client.call('classes.list', { project }).then(
      (r) => setClasses([...r.classes].sort((a, b) => a.position - b.position)),
      (err) => reportError(err, 'Cannot read the classes'),
    );
    client.call('edits.list', { project, limit: JOURNAL_LIMIT }).then(setJournal, (err) => reportError(err, 'Cannot read the undo history'));
  }, [client, project, reportError]);

  useEffect(refresh, [refresh]);
  useEvent('project.changed', refresh);

  // The answer to an action is news for a moment; the undo button keeps naming the last edit.
  useEffect(() => {
    if (lastEdit === null) return;
    const timer = setTimeout(() => setLastEdit(null), LAST_EDIT_MS);
    return () => clearTimeout(timer);
  }, [lastEdit]);

  /** Run a call; afterwards the grid, the counts and the journal follow, whatever happened. */
  const run = useCallback(
    async <T,>(what: string, action: () => Promise<T>, describe: (result: T) => string | null): Promise<T | null> => {
      try {
        const result = await action();
        setLastEdit(describe(result));
        return result;
      } catch (err) {
        reportError(err, what);
        return null;
      } finally {
        onChanged();
        refresh();
      }
    },
    [onChanged, refresh, reportError],
  );

  const summary = (r: { edit: EditInfo | null }, nothing: string) => r.edit?.summary ?? nothing;

  const assign = useCallback(
    async (imageIds: number[], cls: ClassRef | null, from?: { runId: number }) => {
      if (imageIds.length === 0) return false;
      const input = { project, imageIds, class: cls, ...(from ? { source: 'model' as const, runId: from.runId } : {}) };
      const r = await run(cls === null ? 'Cannot remove the label' : 'Cannot label the images', () => client.call('labels.set', input), (r) => summary(r, 'Nothing changed: the images already had that label'));
      return r !== null;
    },
    [client, project, run],
  );

  const exclude = useCallback(
    async (imageIds: number[], excluded: boolean) => {
      if (imageIds.length === 0) return false;
      const r = await run(excluded ? 'Cannot exclude the images' : 'Cannot include the images', () => client.call('labels.exclude', { project, imageIds, excluded }), (r) => summary(r, 'Nothing changed'));
      return r !== null;
    },
    [client, project, run],
  );

  const moveSplit = useCallback(
    async (imageIds: number[], split: SplitName | null) => {
      if (imageIds.length === 0) return false;
      const r = await run('Cannot move the images to another split', () => client.call('split.move', { project, imageIds, split }), (r) => summary(r, `Nothing changed: already in ${split ?? 'no split'}`));
      return r !== null;
    },
    [client, project, run],
  );

  const undo = useCallback(async () => (await run('Cannot undo', () => client.call('edits.undo', { project }), (r) => (r.edit ? `Undid: ${r.edit.summary}` : 'Nothing to undo'))) !== null, [client, project, run]);
  const redo = useCallback(async () => (await run('Cannot redo', () => client.call('edits.redo', { project }), (r) => (r.edit ? `Redid: ${r.edit.summary}` : 'Nothing to redo'))) !== null, [client, project, run]);

  const classCall = useCallback(
    <N extends ClassCallName>(name: N, input: Omit<CallInput<N>, 'project'>) =>
      run(
        `Cannot ${name.replace('classes.', '')} the class`,
        () => client.call(name, { ...input, project } as CallInput<N>),
        (r) => (r as { edit: EditInfo | null }).edit?.summary ?? 'Nothing changed',
      ),
    [client, project, run],
  );

  return useMemo(
    () => ({ classes, journal, lastEdit, assign, exclude, moveSplit, undo, redo, classCall, refresh }),
    [classes, journal, lastEdit, assign, exclude, moveSplit, undo, redo, classCall, refresh],
  );
}
