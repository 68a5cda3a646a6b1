import path from 'node:path';

/**
 * File arguments are resolved against the shell's working folder so the project keeps an
 * absolute path (recent list, error messages). Blank values pass through untouched so the
 * contract's own validation reports them.
 */
export function resolvePathArg(value: string): string;
export function resolvePathArg(value: string | undefined): string | undefined;
export function resolvePathArg(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return value;
  return path.resolve(value);
}
