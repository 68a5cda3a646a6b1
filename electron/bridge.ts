/**
 * What the main process and the preload agree on: IPC channel names and the media URL shape.
 * Kept free of Node and Electron imports because the sandboxed preload bundles it.
 */
export const CHANNELS = {
  call: 'effitune:call',
  event: 'effitune:event',
  pickFolder: 'effitune:pick-folder',
} as const;

export function mediaUrl(kind: 'thumb' | 'full', project: string, id: number): string {
  return `effitune-media://${kind}/${id}?project=${encodeURIComponent(project)}`;
}
