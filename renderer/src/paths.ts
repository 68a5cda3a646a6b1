/** Path helpers for the UI; the renderer has no node:path, and the server may run on Windows. */

export function pathSeparator(reference: string, platform?: string): '/' | '\\' {
  if (platform === 'win32') return '\\';
  return reference.includes('\\') && !reference.includes('/') ? '\\' : '/';
}

export function joinPath(dir: string, name: string, platform?: string): string {
  const sep = pathSeparator(dir, platform);
  return dir.endsWith('/') || dir.endsWith('\\') ? dir + name : dir + sep + name;
}

/**
 * The last component of a path from the server. A POSIX path ('/…') is split at '/' only: there a
 * backslash is an ordinary character, and the app writes a name that is not UTF-8 with one
 * (`caf\xE9.png`, main/dataset/file-name-bytes.ts). Windows paths (`C:\…`, `\\server\…`) and
 * relative ones split at either.
 */
export function baseName(file: string): string {
  const parts = file.startsWith('/') ? file.split('/') : file.split(/[\\/]/);
  return parts[parts.length - 1] || file;
}

/** The folder holding `file` ('' when it names none), split by the same rule as baseName. */
export function parentDir(file: string): string {
  const cut = file.startsWith('/') ? file.lastIndexOf('/') : Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return cut > 0 ? file.slice(0, cut) : cut === 0 ? '/' : '';
}

/** File names must not carry separators or characters Windows refuses. */
export function safeFileName(name: string): string {
  return name.replace(/[\\/:*?"<>|]+/g, '-').trim();
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]} (${bytes.toLocaleString('en-US')} bytes)`;
}
