/**
 * The Electron main process (electron/main.ts) started against a stand-in for the electron module
 * (the binary cannot be installed here), with the real service behind it: what a packaged app
 * does with ELECTRON_RENDERER_URL and EFFITUNE_SQLITE_BINDING from its environment, which IPC
 * senders reach the service, and the guards and permission handlers it installs.
 *
 * electron/main.ts is imported by a computed path, so the root typecheck (which has no electron
 * types) does not follow it; electron/tsconfig.json checks it where electron is installed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeTempDir, removeDir } from '../fixtures/temp';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const nodeBuildOfSqlite = path.join(repoRoot, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');

type Listener = (...args: any[]) => unknown;

/** The parts of the electron module main.ts uses, recording what it is asked to do. */
const fake = vi.hoisted(() => {
  class Emitter {
    listeners = new Map<string, Listener[]>();
    on(name: string, listener: Listener) {
      this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
      return this;
    }
    once(name: string, listener: Listener) {
      return this.on(name, listener);
    }
    emit(name: string, ...args: unknown[]) {
      for (const listener of this.listeners.get(name) ?? []) listener(...args);
    }
  }
  class Contents extends Emitter {
    openHandler: ((details: { url: string }) => unknown) | undefined;
    sent: unknown[][] = [];
    setWindowOpenHandler(handler: (details: { url: string }) => unknown) {
      this.openHandler = handler;
    }
    send(...args: unknown[]) {
      this.sent.push(args);
    }
  }
  const state = {
    isPackaged: true,
    appPath: '',
    windows: [] as { options: any; loaded: string[]; webContents: Contents }[],
    ipc: new Map<string, Listener>(),
    permissionRequest: undefined as Listener | undefined,
    permissionCheck: undefined as Listener | undefined,
    devicePermission: undefined as Listener | undefined,
    errorBoxes: [] as string[],
    exitCodes: [] as number[],
    openedExternally: [] as string[],
    app: new Emitter(),
    Contents,
  };
  class BrowserWindow extends Emitter {
    static getAllWindows() {
      return state.windows;
    }
    webContents = new Contents();
    loaded: string[] = [];
    constructor(public options: unknown) {
      super();
      state.windows.push(this);
      state.app.emit('web-contents-created', {}, this.webContents);
    }
    loadURL(url: string) {
      this.loaded.push(url);
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return false;
    }
    show() {}
    focus() {}
    restore() {}
  }
  // a getter, so each test's state.isPackaged is what main.ts reads (Object.assign would copy one value)
  Object.defineProperty(state.app, 'isPackaged', { get: () => state.isPackaged });
  const app = Object.assign(state.app, {
    getAppPath: () => state.appPath,
    getVersion: () => '9.9.9-test',
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    quit: () => undefined,
    exit: (code: number) => void state.exitCodes.push(code),
  });
  const module = {
    app,
    BrowserWindow,
    dialog: { showErrorBox: (_title: string, message: string) => void state.errorBoxes.push(message), showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
    ipcMain: { handle: (channel: string, handler: Listener) => void state.ipc.set(channel, handler) },
    shell: { openPath: async () => '', openExternal: async (url: string) => void state.openedExternally.push(url) },
    protocol: { registerSchemesAsPrivileged: () => undefined, handle: () => undefined },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: Listener) => void (state.permissionRequest = handler),
        setPermissionCheckHandler: (handler: Listener) => void (state.permissionCheck = handler),
        setDevicePermissionHandler: (handler: Listener) => void (state.devicePermission = handler),
      },
    },
    utilityProcess: { fork: () => { throw new Error('no worker is started in these tests'); } },
  };
  return { state, module };
});

vi.mock('electron', () => ({ ...fake.module, default: fake.module }));

const ENV_KEYS = ['ELECTRON_RENDERER_URL', 'EFFITUNE_SQLITE_BINDING', 'EFFITUNE_HOME'] as const;
const processWithResources = process as unknown as { resourcesPath?: string };
let savedEnv: Partial<Record<(typeof ENV_KEYS)[number], string>>;
let savedResources: string | undefined;
let dir: string;
let warnings: string[];

beforeEach(() => {
  dir = makeTempDir('electron-main');
  savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  savedResources = processWithResources.resourcesPath;
  process.env.EFFITUNE_HOME = path.join(dir, 'home');
  const { state } = fake;
  state.windows.length = 0;
  state.ipc.clear();
  state.errorBoxes.length = 0;
  state.exitCodes.length = 0;
  state.openedExternally.length = 0;
  state.permissionRequest = state.permissionCheck = state.devicePermission = undefined;
  state.app.listeners.clear();
  warnings = [];
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.join(' ')));
  vi.resetModules();
});

afterEach(() => {
  fake.state.app.emit('before-quit');
  vi.restoreAllMocks();
  for (const key of ENV_KEYS) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
  processWithResources.resourcesPath = savedResources;
  removeDir(dir);
});

/** Starts electron/main.ts as Electron would: module load, then the app's ready. */
async function startMain(): Promise<void> {
  const mainFile = path.join(repoRoot, 'electron', 'main.ts');
  await import(/* @vite-ignore */ mainFile);
  // start() runs when app.whenReady() resolves
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** An IPC call as Electron delivers it: from a web contents, from one of its frames. */
async function ipcCall(sender: object, frameUrl: string | null, name: string, input: unknown = {}, topFrame = true): Promise<any> {
  const handler = fake.state.ipc.get('effitune:call');
  if (!handler) throw new Error('main.ts registered no effitune:call handler');
  const senderFrame = frameUrl === null ? null : { url: frameUrl, parent: topFrame ? null : {} };
  return handler({ sender, senderFrame }, name, input);
}

function shipBinding(): string {
  const shipped = path.join(dir, 'resources', 'native', 'better_sqlite3.node');
  fs.mkdirSync(path.dirname(shipped), { recursive: true });
  fs.copyFileSync(nodeBuildOfSqlite, shipped);
  processWithResources.resourcesPath = path.join(dir, 'resources');
  return shipped;
}

describe('a packaged app', () => {
  beforeEach(() => {
    fake.state.isPackaged = true;
    fake.state.appPath = path.join(dir, 'app.asar');
  });

  it('ignores ELECTRON_RENDERER_URL and EFFITUNE_SQLITE_BINDING from its environment', async () => {
    const shipped = shipBinding();
    const planted = path.join(dir, 'planted.node');
    fs.writeFileSync(planted, 'code the attacker wants loaded');
    process.env.ELECTRON_RENDERER_URL = 'http://127.0.0.1:5173';
    process.env.EFFITUNE_SQLITE_BINDING = planted;
    await startMain();

    expect(fake.state.errorBoxes).toEqual([]);
    expect(fake.state.windows).toHaveLength(1);
    expect(fake.state.windows[0].loaded).toEqual(['effitune-app://app/index.html']);
    // the service, and every worker it starts, load the shipped binding
    expect(process.env.EFFITUNE_SQLITE_BINDING).toBe(shipped);
    expect(warnings.join('\n')).toMatch(/ELECTRON_RENDERER_URL is ignored/);
    expect(warnings.join('\n')).toMatch(/EFFITUNE_SQLITE_BINDING is ignored/);
  });

  it('answers IPC calls only from the top frame of its window showing its own page', async () => {
    shipBinding();
    process.env.ELECTRON_RENDERER_URL = 'http://127.0.0.1:5173';
    await startMain();
    const ours = fake.state.windows[0].webContents;

    const answer = await ipcCall(ours, 'effitune-app://app/index.html', 'app.info');
    expect(answer).toMatchObject({ ok: true, value: { mode: 'electron', version: '9.9.9-test', dataDir: path.join(dir, 'home') } });

    const refusals = [
      await ipcCall(ours, 'http://127.0.0.1:5173/', 'app.info'),
      await ipcCall(ours, 'https://evil.example/', 'app.info'),
      await ipcCall(ours, 'effitune-app://app/index.html', 'app.info', {}, false),
      await ipcCall(ours, null, 'app.info'),
      await ipcCall(new fake.state.Contents(), 'effitune-app://app/index.html', 'app.info'),
    ];
    for (const refused of refusals) {
      expect(refused).toEqual({ ok: false, error: { code: 'invalid_input', message: 'call refused: it did not come from the Effitune window' } });
    }
    const openFolder = fake.state.ipc.get('effitune:open-folder')!;
    expect(await openFolder({ sender: ours, senderFrame: { url: 'https://evil.example/', parent: null } }, dir)).toMatchObject({ ok: false });
  });

  it('keeps every web contents on its pages, denies new windows and permissions', async () => {
    shipBinding();
    await startMain();
    const contents = fake.state.windows[0].webContents;
    const fire = (name: string, url: string) => {
      const event = { preventDefault: vi.fn() };
      contents.emit(name, event, url);
      return event.preventDefault.mock.calls.length > 0;
    };
    expect(fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(fire('will-redirect', 'http://127.0.0.1:5173/')).toBe(true);
    expect(fire('will-navigate', 'effitune-app://app/index.html')).toBe(false);
    expect(fire('will-attach-webview', '')).toBe(true);
    expect(contents.openHandler?.({ url: 'https://github.com/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(fake.state.openedExternally).toEqual(['https://github.com/']);

    const request = (permission: string, requestingUrl: string) =>
      new Promise<boolean>((resolve) => fake.state.permissionRequest?.(contents, permission, resolve, { requestingUrl }));
    expect(await request('media', 'effitune-app://app/index.html')).toBe(false);
    expect(await request('notifications', 'effitune-app://app/index.html')).toBe(false);
    expect(await request('clipboard-sanitized-write', 'effitune-app://app/index.html')).toBe(true);
    expect(await request('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
    expect(fake.state.permissionCheck?.(contents, 'geolocation', 'effitune-app://app', {})).toBe(false);
    expect(fake.state.permissionCheck?.(contents, 'clipboard-sanitized-write', 'effitune-app://app', { requestingUrl: 'effitune-app://app/index.html' })).toBe(true);
    expect(fake.state.devicePermission?.({ deviceType: 'usb', origin: 'effitune-app://app' })).toBe(false);
  });

  it('stops with a message in words when its SQLite module is missing', async () => {
    processWithResources.resourcesPath = path.join(dir, 'resources');
    await startMain();
    expect(fake.state.errorBoxes).toEqual([expect.stringMatching(/SQLite module .* is missing .*reinstall Effitune/)]);
    expect(fake.state.exitCodes).toEqual([1]);
    expect(fake.state.windows).toHaveLength(0);
  });
});

describe('in development', () => {
  beforeEach(() => {
    fake.state.isPackaged = false;
    fake.state.appPath = repoRoot;
  });

  it('loads the loopback dev server and trusts exactly its origin', async () => {
    process.env.ELECTRON_RENDERER_URL = 'http://localhost:5173';
    process.env.EFFITUNE_SQLITE_BINDING = nodeBuildOfSqlite;
    await startMain();
    expect(fake.state.windows[0].loaded).toEqual(['http://localhost:5173/']);
    const ours = fake.state.windows[0].webContents;
    expect(await ipcCall(ours, 'http://localhost:5173/', 'app.info')).toMatchObject({ ok: true });
    expect(await ipcCall(ours, 'http://localhost:51730/', 'app.info')).toMatchObject({ ok: false });
    expect(await ipcCall(ours, 'http://127.0.0.1:5173/', 'app.info')).toMatchObject({ ok: false });
  });

  it('refuses a dev server that is not on this machine, and loads the built renderer', async () => {
    process.env.ELECTRON_RENDERER_URL = 'https://evil.example/';
    process.env.EFFITUNE_SQLITE_BINDING = nodeBuildOfSqlite;
    await startMain();
    expect(fake.state.windows[0].loaded).toEqual(['effitune-app://app/index.html']);
    expect(warnings.join('\n')).toMatch(/ELECTRON_RENDERER_URL is ignored: "https:\/\/evil.example\/" is not an http\(s\) address on this machine/);
  });

  it('refuses to start with an EFFITUNE_SQLITE_BINDING outside the app folders, in words', async () => {
    const planted = path.join(dir, 'planted.node');
    fs.writeFileSync(planted, 'code the attacker wants loaded');
    process.env.EFFITUNE_SQLITE_BINDING = planted;
    await startMain();
    expect(fake.state.errorBoxes).toEqual([expect.stringContaining(`EFFITUNE_SQLITE_BINDING (${planted}) is refused`)]);
    expect(fake.state.exitCodes).toEqual([1]);
    expect(fake.state.windows).toHaveLength(0);
  });
});
