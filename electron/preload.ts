/**
 * The preload bridge: the renderer gets `window.effitune`, the same Transport the browser mode
 * builds over HTTP (main/contract/client.ts), plus a native folder picker and "open this folder in
 * the file manager" (after an export). Nothing else of Node or Electron reaches the page
 * (contextIsolation + sandbox).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { Transport } from '../main/contract/client';
import { CHANNELS, mediaUrl, type OpenFolderAnswer } from './bridge';

export interface DesktopBridge extends Transport {
  /** Native "choose a folder" dialog; null when the user cancels. */
  pickFolder(): Promise<string | null>;
  /** Opens an existing folder in the system's file manager (the main process checks it is one). */
  openFolder(dir: string): Promise<OpenFolderAnswer>;
}

const bridge: DesktopBridge = {
  call: (name, input) => ipcRenderer.invoke(CHANNELS.call, name, input),
  subscribe(listener) {
    const forward = (_event: IpcRendererEvent, name: string, payload: unknown) => listener(name, payload);
    ipcRenderer.on(CHANNELS.event, forward);
    return () => {
      ipcRenderer.off(CHANNELS.event, forward);
    };
  },
  mediaUrl,
  pickFolder: () => ipcRenderer.invoke(CHANNELS.pickFolder),
  openFolder: (dir) => ipcRenderer.invoke(CHANNELS.openFolder, dir),
};

contextBridge.exposeInMainWorld('effitune', bridge);
