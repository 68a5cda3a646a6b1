/**
 * The Electron main process: hosts the service in-process (database calls are fast and
 * synchronous), wires it to the window over IPC and two custom schemes, and nothing more.
 * All logic lives in main/; this file is a door.
 */
import { app, BrowserWindow, dialog, ipcMain, session, shell, type IpcMainInvokeEvent } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toErrorShape } from '../main/contract/contract';
import type { DoorService } from '../main/service/door-service';
import { Service } from '../main/service/service';
import { setProcessLauncher } from '../main/workers/process-launcher';
import { CHANNELS } from './bridge';
import { SQLITE_BINDING_ENV, sqliteBinding } from './native-binding';
import { devServerFrom, guardWebContents, isTrustedSender, permissionAllowed, startUrl } from './page-guards';
import { handleAppProtocol, handleMediaProtocol, registerSchemes } from './protocols';
import { electronWorkerLauncher } from './worker-launcher';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererDir = path.join(here, '../renderer');
const preloadFile = path.join(here, '../preload/preload.cjs');
/**
 * Set by `electron-vite dev`: the renderer comes from Vite's dev server with hot reload. Honoured
 * only in an unpackaged app, and only on a loopback address (electron/page-guards.ts).
 */
const devServer = devServerFrom({ isPackaged: app.isPackaged, rendererUrl: process.env.ELECTRON_RENDERER_URL });
if (devServer.ignored) console.warn(`Effitune: ${devServer.ignored}`);

let service: Service | undefined;
let mainWindow: BrowserWindow | null = null;

registerSchemes();

// One instance only: two processes writing the same project file would fight over it.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow?.isMinimized()) mainWindow.restore();
    mainWindow?.focus();
  });
  app.whenReady().then(start, (err) => fail(`Effitune could not start: ${(err as Error).message}`));
}

function fail(message: string): void {
  dialog.showErrorBox('Effitune', message);
  app.exit(1);
}

function start(): void {
  const binding = sqliteBinding({
    isPackaged: app.isPackaged,
    appPath: app.getAppPath(),
    resourcesPath: process.resourcesPath,
    electronVersion: process.versions.electron,
  });
  if (binding.ignored) console.warn(`Effitune: ${binding.ignored}`);
  if (binding.problem) return fail(binding.problem);
  // the workers and main/project/database.ts load this one: never a value the app was started with
  process.env[SQLITE_BINDING_ENV] = binding.path;
  // trainers, estimators, predictors and probes run as utility processes of the built worker entries
  // beside this file; a worker that starts workers of its own asks this process to (the relay)
  setProcessLauncher(electronWorkerLauncher(here));

  guardSession();
  const svc = new Service({ mode: 'electron', version: app.getVersion() });
  service = svc;
  handleAppProtocol(rendererDir);
  handleMediaProtocol(svc);
  registerIpc(svc);
  svc.onEvent((event, payload) => {
    // An import can still report progress while the window is closing.
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(CHANNELS.event, event, payload);
  });
  createWindow();

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

/** Only our own page, in our window's top frame, may call the service; a navigated-away or injected frame gets nothing. */
function trusted(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  const sender = { frameUrl: frame?.url, isMainFrame: frame != null && frame.parent === null, fromOurWindow: mainWindow !== null && event.sender === mainWindow.webContents };
  return isTrustedSender(sender, devServer.origin);
}

/** No page gets a permission (camera, notifications, ...) but what ours needs; no device is handed out. */
function guardSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, permission, callback, details) => callback(permissionAllowed(permission, details.requestingUrl, devServer.origin)));
  ses.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) =>
    permissionAllowed(permission, details.requestingUrl ?? requestingOrigin, devServer.origin),
  );
  ses.setDevicePermissionHandler(() => false);
}

function registerIpc(svc: DoorService): void {
  ipcMain.handle(CHANNELS.openFolder, async (event, dir: unknown) => {
    if (!trusted(event) || typeof dir !== 'string' || !path.isAbsolute(dir)) return { ok: false, message: 'not an absolute folder path' };
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return { ok: false, message: `${dir} is not a folder (any more)` };
    const problem = await shell.openPath(dir);
    return problem ? { ok: false, message: problem } : { ok: true };
  });
  ipcMain.handle(CHANNELS.call, async (event, name: unknown, input: unknown) => {
    if (!trusted(event)) return { ok: false, error: { code: 'invalid_input', message: 'call refused: it did not come from the Effitune window' } };
    try {
      return { ok: true, value: await svc.call(String(name), input) };
    } catch (err) {
      return { ok: false, error: toErrorShape(err) };
    }
  });
  ipcMain.handle(CHANNELS.pickFolder, async (event) => {
    if (!trusted(event) || !mainWindow) return null;
    const choice = await dialog.showOpenDialog(mainWindow, { title: 'Choose a folder of images', properties: ['openDirectory'] });
    return choice.canceled ? null : (choice.filePaths[0] ?? null);
  });
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 800,
    minHeight: 560,
    title: 'Effitune',
    show: false,
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
    },
  });
  mainWindow = win;
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(startUrl(devServer));
}

// Every web contents, the window's and any other, stays on our pages; https links open in the user's browser.
app.on('web-contents-created', (_event, contents) => {
  guardWebContents(contents, devServer.origin, (url) => void shell.openExternal(url));
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('before-quit', () => {
  service?.close();
  service = undefined;
});
