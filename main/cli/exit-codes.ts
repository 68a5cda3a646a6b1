/**
 * Exit codes of the CLI, so scripts can tell a typo from a missing file from a crash.
 * They are documented in `effitune help`.
 */
import type { ErrorCode } from '../contract/contract';

export const EXIT = {
  ok: 0,
  usage: 1,
  notFound: 2,
  conflict: 3,
  io: 4,
  internal: 5,
  interrupted: 130,
} as const;

const BY_ERROR_CODE: Record<ErrorCode, number> = {
  invalid_input: EXIT.usage,
  not_found: EXIT.notFound,
  not_a_project: EXIT.notFound,
  already_exists: EXIT.conflict,
  busy: EXIT.conflict,
  cancelled: EXIT.interrupted,
  io_error: EXIT.io,
  internal: EXIT.internal,
};

export function exitCodeOf(code: ErrorCode): number {
  return BY_ERROR_CODE[code] ?? EXIT.internal;
}

export const EXIT_CODE_HELP = [
  '0 success',
  '1 usage error or invalid input',
  '2 not found (file, folder, project, image) or not a project',
  '3 conflict (already exists, busy)',
  '4 file system error',
  '5 internal error',
  '130 interrupted (Ctrl-C)',
];
