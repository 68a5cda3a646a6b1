/**
 * The service's error boundary: what a handler throws that is not an ApiError yet. A project file
 * can turn out damaged, read-only or locked on any query, long after it opened, and SQLite says so
 * in a terse code without naming the file; a full disk under an export says ENOSPC. Those become
 * ApiErrors with the right code (not_a_project, io_error, busy) naming the call's project file.
 * Anything else stays as it was: the doors report it as internal, a bug.
 */
import path from 'node:path';
import { ApiError, calls, isCallName } from '../contract/contract';
import { ProjectPath } from '../contract/define';
import { fileSystemError, isSqliteError, projectFileError } from '../project/storage-errors';

/** `doing` finishes "Effitune cannot ...": by default the call's name. */
export function callError(err: unknown, name: string, args: unknown, doing = `run ${name}`): unknown {
  if (err instanceof ApiError) return err;
  if (isSqliteError(err)) {
    const project = projectOfCall(name, args);
    return (project !== null && projectFileError(err, path.resolve(project), doing)) || err;
  }
  return fileSystemError(err, doing) ?? err;
}

/** The project file a call works on: its `project` field, or its `path` where that is a project (project.create, sample.create). */
export function projectOfCall(name: string, args: unknown): string | null {
  if (typeof args !== 'object' || args === null) return null;
  const { project, path: file } = args as { project?: unknown; path?: unknown };
  if (typeof project === 'string') return project;
  if (!isCallName(name) || typeof file !== 'string') return null;
  const shape = (calls[name].input as { shape?: Record<string, unknown> }).shape;
  return shape?.path === ProjectPath ? file : null;
}
