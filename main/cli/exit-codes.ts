/**
 * Exit codes of the CLI, so scripts can tell a typo from a missing file from a crash.
 * They are documented in `effitune help`.
 */
import { ErrorCode } from '../contract/contract';

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

/**
 * How a run that ended while the command waited exits: completed 0, cancelled 130, failed by what
 * failed it (a full disk: 4, like any other call's io_error), else 5 (a crash, a bug).
 */
export function exitCodeOfRun(status: string, failureCode?: string): number {
  if (status === 'completed') return EXIT.ok;
  if (status === 'cancelled') return EXIT.interrupted;
  const code = ErrorCode.safeParse(failureCode);
  return code.success ? exitCodeOf(code.data) : EXIT.internal;
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
