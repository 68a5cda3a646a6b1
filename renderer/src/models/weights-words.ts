/** How the UI names pretrained weights, and where a dropped file lives on disk when the browser says. */
import type { LocalWeights } from '../../../main/contract/calls-models';
import { baseName } from '../paths';

/** 16.7 MB, 540 KB: sizes and rates in a download line (paths.ts formatBytes adds the exact count). */
export function shortBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "ImageNet · efficientnetb0_notop.h5 · checksum verified · no classifier" */
export function weightsLabel(w: LocalWeights): string {
  const origin = w.verified ? 'ImageNet' : w.source === 'download' ? 'Downloaded' : 'Imported';
  const head = w.includeTop ? `${w.classes ?? '?'}-class classifier` : 'no classifier';
  return `${origin} · ${baseName(w.file)}${w.verified ? ' · checksum verified' : ''} · ${head}`;
}

/** The weights a run of this variant starts from by default: published (checksum-verified) files first, then the newest. */
export function defaultWeights(cache: readonly LocalWeights[], variant: string): LocalWeights | null {
  const own = cache.filter((w) => w.variant === variant);
  return own.find((w) => w.verified) ?? own[0] ?? null;
}

/**
 * The path of a dropped file, where the browser gives one away: a file manager's drag carries a
 * file:// URI (text/uri-list) or the path as text; Electron's File objects have a `path`. A plain
 * browser never tells a page where a dropped File is on disk: null then.
 */
export function droppedPath(data: DataTransfer): string | null {
  const uris = data
    .getData('text/uri-list')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const uri of uris) {
    const local = fileUriToPath(uri);
    if (local) return local;
  }
  const text = data.getData('text/plain').trim();
  if (text.startsWith('file://')) return fileUriToPath(text);
  if (/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(text) && !text.includes('\n')) return text;
  const file = data.files[0] as (File & { path?: string }) | undefined;
  return file?.path || null;
}

function fileUriToPath(uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== 'file:') return null;
  const pathname = decodeURIComponent(url.pathname);
  // file:///C:/weights/b0.h5 → C:/weights/b0.h5; file://server/share/x → \\server\share\x
  if (/^\/[A-Za-z]:\//.test(pathname)) return pathname.slice(1);
  if (url.host) return `\\\\${url.host}${pathname.replace(/\//g, '\\')}`;
  return pathname;
}
