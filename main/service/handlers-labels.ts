/**
 * Service handlers of the labeling calls (main/contract/calls-labels.ts). Thin: the work is in
 * main/dataset/labels. Every change emits 'project.changed' so open windows refresh their counts.
 */
import type { labelCalls } from '../contract/calls-labels';
import type { HandlersOf } from './handler';
import type { Service } from './service';
import type { Database } from '../project/database';
import { createClass, deleteClass, listClasses, mergeClasses, recolorClass, renameClass, reorderClasses } from '../dataset/labels/classes';
import { confirmLabels, excludeImages, setLabels } from '../dataset/labels/image-labels';
import { importLabels } from '../dataset/labels/label-import';
import { exportLabels } from '../dataset/labels/label-export';
import { exportFolders } from '../dataset/labels/export-folders';
import { imageHistory } from '../dataset/labels/label-history';
import { listEdits, redoNext, undoLast } from '../dataset/labels/journal';
import { moveToSplit, setTestLocked } from '../dataset/labels/split-moves';
import { currentUser } from '../dataset/labels/who';
import { ApiError } from '../contract/contract';

export function labelHandlers(service: Service): HandlersOf<typeof labelCalls> {
  const db = (project: string): Database => service.projects.get(project).db;
  /** Run a change and tell open windows about it. */
  const changing = <T>(project: string, work: (db: Database) => T): T => {
    const handle = service.projects.get(project);
    const result = work(handle.db);
    service.emit('project.changed', { project: handle.path });
    return result;
  };
  const who = currentUser();
  return {
    'classes.list': ({ project }) => ({ classes: listClasses(db(project)) }),
    'classes.create': ({ project, name, color }) => changing(project, (d) => createClass(d, name, color, who)),
    'classes.rename': ({ project, class: ref, name }) => changing(project, (d) => renameClass(d, ref, name, who)),
    'classes.recolor': ({ project, class: ref, color }) => changing(project, (d) => recolorClass(d, ref, color, who)),
    'classes.reorder': ({ project, order }) => changing(project, (d) => reorderClasses(d, order, who)),
    'classes.merge': ({ project, from, into }) => changing(project, (d) => mergeClasses(d, from, into, who)),
    'classes.delete': ({ project, class: ref }) => changing(project, (d) => deleteClass(d, ref, who)),
    'labels.set': ({ project, imageIds, class: ref, source, runId, createClass: create }) => {
      if (runId !== undefined && source !== 'model') throw new ApiError('invalid_input', 'runId: only a model suggestion (source "model") comes from a run');
      return changing(project, (d) => setLabels(d, { imageIds, class: ref, source, runId, createClass: create }, who));
    },
    'labels.exclude': ({ project, imageIds, excluded }) => changing(project, (d) => excludeImages(d, imageIds, excluded, who)),
    'labels.confirm': ({ project, imageIds }) => confirmLabels(db(project), imageIds, who),
    'labels.history': ({ project, imageId }) => ({ entries: imageHistory(db(project), imageId) }),
    'labels.import': ({ project, file, format, createClasses }) => changing(project, (d) => importLabels(d, { file, format, createClasses }, who)),
    'labels.export': ({ project, file, format, force }) => exportLabels(db(project), { file, format, force }),
    'labels.exportFolders': ({ project, out, mode, bySplit, force }) => exportFolders(db(project), { out, mode, bySplit, force }),
    'split.move': ({ project, imageIds, split }) => changing(project, (d) => moveToSplit(d, imageIds, split, who)),
    'split.lock': ({ project, locked }) => changing(project, (d) => setTestLocked(d, locked)),
    'edits.list': ({ project, limit }) => listEdits(db(project), limit),
    'edits.undo': ({ project }) => changing(project, (d) => ({ edit: undoLast(d, who) })),
    'edits.redo': ({ project }) => changing(project, (d) => ({ edit: redoNext(d, who) })),
  };
}
