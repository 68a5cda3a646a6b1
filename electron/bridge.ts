/**
 * What the main process and the preload agree on: IPC channel names and the media URL shape.
 * Kept free of Node and Electron imports because the sandboxed preload bundles it.
 */
export const CHANNELS = {
  call: 'effitune:call',
  event: 'effitune:event',
  pickFolder: 'effitune:pick-folder',
  openFolder: 'effitune:open-folder',
} as const;

/** The main process's answer to openFolder: opened, or why not, in words. */
export type OpenFolderAnswer = { ok: true } | { ok: false; message: string };

export function mediaUrl(kind: 'thumb' | 'full', project: string, id: number): string {
  return `effitune-media://${kind}/${id}?project=${encodeURIComponent(project)}`;
}
