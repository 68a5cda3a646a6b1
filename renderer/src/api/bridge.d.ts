/** The preload bridge the Electron door exposes as `window.effitune` (see electron/preload.ts). */
import type { Transport } from '../../../main/contract/client';

declare global {
  interface Window {
    effitune?: Transport & {
      /** Native "choose a folder" dialog; null when the user cancels. Desktop only. */
      pickFolder?: () => Promise<string | null>;
    };
  }
}

export {};
