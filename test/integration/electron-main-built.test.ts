/**
 * The built Electron main process (out/electron/main.js as electron-vite bundles it), run by plain
 * Node with a stand-in for the electron module (the binary cannot be installed here; a module
 * hook resolves `electron` to it): started as a packaged app with a hostile environment, it loads
 * only its own page and its own SQLite module, answers IPC only from its own page (a real project
 * is created through it), cancels a redirect away, denies a permission, and sends https links to
 * the browser; in development it refuses a SQLite module from outside the app's folders. With the
 * stand-in's utilityProcess forking the built worker entries with plain Node, a worker that starts
 * a worker of its own (the estimator probing the wasm backend) has the main process start it (the
 * relay: a worker cannot call utilityProcess, and the fused binary does not run as Node).
 *
 * The bundle is built with the app's own main-process configuration, only its output folder moved
 * (as test/integration/electron-trainer.test.ts does).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../fixtures/temp';
import { createTrainProject } from '../fixtures/train-project';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const nodeBuildOfSqlite = path.join(repoRoot, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');

/** The electron module as main.js uses it, recording what it is asked to do (ESM, loaded in the child). */
const FAKE_ELECTRON = `
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
export const log = [];
class Contents extends EventEmitter { setWindowOpenHandler(handler) { this.openHandler = handler; } send() {} }
export const app = new EventEmitter();
Object.assign(app, {
  isPackaged: process.env.FAKE_PACKAGED === '1',
  getAppPath: () => process.env.FAKE_APP_PATH,
  getVersion: () => '0.0.0-built-test',
  requestSingleInstanceLock: () => true,
  whenReady: () => Promise.resolve(),
  quit() {},
  exit(code) { log.push(['exit', code]); },
});
export const windows = [];
export class BrowserWindow extends EventEmitter {
  static getAllWindows() { return windows; }
  constructor(options) { super(); this.webContents = new Contents(); windows.push(this); app.emit('web-contents-created', {}, this.webContents); }
  loadURL(url) { log.push(['loadURL', url]); return Promise.resolve(); }
  isDestroyed() { return false; }
}
export const ipc = new Map();
export const ipcMain = { handle: (channel, handler) => ipc.set(channel, handler) };
export const dialog = { showErrorBox: (_title, message) => log.push(['errorBox', message]) };
export const shell = { openExternal: async (url) => log.push(['openExternal', url]), openPath: async () => '' };
export const protocol = { registerSchemesAsPrivileged() {}, handle() {} };
export const permissions = {};
export const session = { defaultSession: {
  setPermissionRequestHandler: (handler) => { permissions.request = handler; },
  setPermissionCheckHandler: (handler) => { permissions.check = handler; },
  setDevicePermissionHandler: (handler) => { permissions.device = handler; },
} };
// utilityProcess.fork as child_process.fork with plain Node: messages, piped output, kill, exit code
export const utilityProcess = { fork(modulePath, args, options) {
  log.push(['fork', path.basename(modulePath), options.env?.EFFITUNE_WORKER_RELAY ?? null]);
  const child = fork(modulePath, args ?? [], { env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
  const proc = new EventEmitter();
  Object.defineProperty(proc, 'pid', { get: () => child.pid });
  proc.stdout = child.stdout;
  proc.stderr = child.stderr;
  proc.postMessage = (message) => { if (child.connected) child.send(message); };
  proc.kill = () => child.kill();
  child.on('message', (message) => proc.emit('message', message));
  child.on('exit', (code, signal) => proc.emit('exit', code ?? (signal ? 1 : 0)));
  return proc;
} };
export default { app, BrowserWindow, ipcMain, dialog, shell, protocol, session, utilityProcess };
`;

/** Starts the built main.js, then acts as the window and the user would; prints one JSON line. */
const DRIVER = `
const fake = await import('electron');
await import(process.env.BUILT_MAIN);
await new Promise((resolve) => setTimeout(resolve, 50));
const result = { log: fake.log, binding: process.env.EFFITUNE_SQLITE_BINDING ?? null, windows: fake.windows.length };
if (fake.windows.length > 0) {
  const contents = fake.windows[0].webContents;
  const call = fake.ipc.get('effitune:call');
  const from = (url) => ({ sender: contents, senderFrame: { url, parent: null } });
  result.fromDevServer = await call(from('http://127.0.0.1:5173/'), 'app.info', {});
  result.fromOwnPage = await call(from('effitune-app://app/index.html'), 'project.create', { path: process.env.PROJECT_FILE, name: 'built' });
  let prevented = false;
  contents.emit('will-redirect', { preventDefault: () => { prevented = true; } }, 'https://evil.example/');
  result.redirectPrevented = prevented;
  result.windowOpen = contents.openHandler({ url: 'https://example.com/docs' });
  result.mediaGranted = await new Promise((resolve) => fake.permissions.request(contents, 'media', resolve, { requestingUrl: 'effitune-app://app/index.html' }));
  if (process.env.ESTIMATE_PROJECT) {
    const options = { model: 'phi=-8', resolution: 32, backend: 'wasm', augment: false, mode: 'full', epochs: 1, batch: 8 };
    result.estimate = await call(from('effitune-app://app/index.html'), 'train.estimate', { project: process.env.ESTIMATE_PROJECT, ...options });
  }
  fake.app.emit('before-quit');
}
console.log('RESULT ' + JSON.stringify(result));
process.exit(0);
`;

let dir: string;
let out: string;
let hookFile: string;
let driverFile: string;

beforeAll(() => {
  dir = makeTempDir('electron-main-built');
  // inside the repository, as out/ is, so the bundle finds node_modules
  out = path.join(repoRoot, '.cache', `test-electron-main-${process.pid}`);
  const config = path.join(dir, 'main-only.config.ts');
  fs.writeFileSync(
    config,
    `import config from ${JSON.stringify(path.join(repoRoot, 'electron.vite.config.ts'))};\n` +
      `const main = config.main;\nexport default { main: { ...main, build: { ...main.build, outDir: ${JSON.stringify(out)} } } };\n`,
  );
  const electronMajor = /(\d+)/.exec((JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> }).optionalDependencies.electron)![1];
  const build = spawnSync(process.execPath, [path.join(path.dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js'), 'build', '--config', config], {
    cwd: repoRoot,
    env: { ...process.env, ELECTRON_MAJOR_VER: electronMajor },
    encoding: 'utf8',
    timeout: 240_000,
  });
  expect(build.status, `electron-vite build failed:\n${build.stdout}\n${build.stderr}`).toBe(0);

  const fakeFile = path.join(dir, 'fake-electron.mjs');
  fs.writeFileSync(fakeFile, FAKE_ELECTRON);
  fs.writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {\n` +
      `  if (specifier === 'electron') return { url: ${JSON.stringify(pathToFileURL(fakeFile).href)}, shortCircuit: true };\n` +
      `  return next(specifier, context);\n}\n`,
  );
  hookFile = path.join(dir, 'register.mjs');
  fs.writeFileSync(hookFile, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`);
  driverFile = path.join(dir, 'driver.mjs');
  fs.writeFileSync(driverFile, DRIVER);
}, 300_000);

afterAll(() => {
  removeDir(out);
  removeDir(dir);
});

/** Runs the built main.js in a child process as a packaged or development app, with this environment. */
function runBuilt(options: { packaged: boolean; appPath: string; resourcesPath?: string; env?: Record<string, string> }): any {
  const imports = [hookFile];
  if (options.resourcesPath) {
    // process.resourcesPath is Electron's; set before main.js reads it
    const setter = path.join(dir, 'resources-path.mjs');
    fs.writeFileSync(setter, `process.resourcesPath = ${JSON.stringify(options.resourcesPath)};\n`);
    imports.push(setter);
  }
  const child = spawnSync(process.execPath, [...imports.flatMap((file) => ['--import', pathToFileURL(file).href]), driverFile], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: process.env.PATH ?? '',
      EFFITUNE_HOME: path.join(dir, 'home'),
      FAKE_PACKAGED: options.packaged ? '1' : '0',
      FAKE_APP_PATH: options.appPath,
      BUILT_MAIN: pathToFileURL(path.join(out, 'main.js')).href,
      PROJECT_FILE: path.join(dir, `built-${options.packaged ? 'packaged' : 'dev'}.effitune`),
      ...options.env,
    },
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  expect(line, `no result from the built main.js:\n${child.stdout}\n${child.stderr}`).toBeDefined();
  return { ...JSON.parse(line!.slice('RESULT '.length)), stderr: child.stderr };
}

describe('the built main process', () => {
  it('as a packaged app: ignores the hostile environment, serves only its own page, guards the window', () => {
    const resources = path.join(dir, 'resources');
    const shipped = path.join(resources, 'native', 'better_sqlite3.node');
    fs.mkdirSync(path.dirname(shipped), { recursive: true });
    fs.copyFileSync(nodeBuildOfSqlite, shipped);
    const planted = path.join(dir, 'planted.node');
    fs.writeFileSync(planted, 'code an attacker wants loaded');

    const result = runBuilt({
      packaged: true,
      appPath: path.join(dir, 'app.asar'),
      resourcesPath: resources,
      env: { ELECTRON_RENDERER_URL: 'http://127.0.0.1:5173', EFFITUNE_SQLITE_BINDING: planted },
    });
    expect(result.log[0]).toEqual(['loadURL', 'effitune-app://app/index.html']);
    expect(result.binding).toBe(shipped);
    expect(result.stderr).toMatch(/ELECTRON_RENDERER_URL is ignored/);
    expect(result.stderr).toMatch(/EFFITUNE_SQLITE_BINDING is ignored/);
    expect(result.fromDevServer).toEqual({ ok: false, error: { code: 'invalid_input', message: 'call refused: it did not come from the Effitune window' } });
    // the project is created with the shipped SQLite module (a copy of the Node build here)
    expect(result.fromOwnPage).toMatchObject({ ok: true, value: { name: 'built' } });
    expect(fs.existsSync(path.join(dir, 'built-packaged.effitune'))).toBe(true);
    expect(result.redirectPrevented).toBe(true);
    expect(result.windowOpen).toEqual({ action: 'deny' });
    expect(result.log).toContainEqual(['openExternal', 'https://example.com/docs']);
    expect(result.mediaGranted).toBe(false);
  });

  it("as a packaged app: a worker's own worker is started by the main process, not forked by the worker itself", async () => {
    const resources = path.join(dir, 'resources-relay');
    const shipped = path.join(resources, 'native', 'better_sqlite3.node');
    fs.mkdirSync(path.dirname(shipped), { recursive: true });
    fs.copyFileSync(nodeBuildOfSqlite, shipped);
    const projectDir = path.join(dir, 'estimate');
    fs.mkdirSync(projectDir);
    const project = await createTrainProject(projectDir, 4);
    project.registry.closeAll();

    const result = runBuilt({ packaged: true, appPath: path.join(dir, 'app.asar'), resourcesPath: resources, env: { ESTIMATE_PROJECT: project.file } });
    expect(result.estimate, result.stderr).toMatchObject({ ok: true, value: { backend: 'wasm', basis: 'measured' } });
    // both through the main process's utilityProcess: the estimator for the service, the probe at the estimator's request
    expect(result.log.filter((entry: unknown[]) => entry[0] === 'fork')).toEqual([
      ['fork', 'estimator.js', '1'],
      ['fork', 'probe.js', '1'],
    ]);
  }, 180_000);

  it('in development: refuses a SQLite module from outside the app folders, in words, and opens no window', () => {
    const planted = path.join(dir, 'planted-dev.node');
    fs.writeFileSync(planted, 'code an attacker wants loaded');
    const result = runBuilt({ packaged: false, appPath: repoRoot, env: { EFFITUNE_SQLITE_BINDING: planted } });
    expect(result.windows).toBe(0);
    expect(result.log).toContainEqual(['errorBox', expect.stringContaining(`EFFITUNE_SQLITE_BINDING (${planted}) is refused`)]);
    expect(result.log).toContainEqual(['exit', 1]);
  });
});
