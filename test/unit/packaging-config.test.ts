/**
 * The packaging step (electron-builder.yml, read and validated by electron-builder's own loader
 * and schema): the installers it makes, every native file of the shipped packages unpacked from
 * app.asar, the Electron-ABI SQLite module where the app looks for it, the Electron fuses, and the
 * icons and desktop entry it names, which exist, are well-formed, and are what
 * scripts/make-icons.mjs makes from the one source image.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteBinding } from '../../electron/native-binding';
import { makeTempDir, removeDir } from '../fixtures/temp';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// app-builder-lib (electron-builder's engine) and minimatch, as electron-builder itself resolves them
const builderRequire = createRequire(createRequire(path.join(repoRoot, 'package.json')).resolve('electron-builder/package.json'));
const libRequire = createRequire(builderRequire.resolve('app-builder-lib/package.json'));
const { getConfig, validateConfiguration } = libRequire('./out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null): Promise<any>;
  validateConfiguration(config: unknown, debugLogger: { isEnabled: boolean; add(): void }): Promise<void>;
};
const { minimatch } = libRequire('minimatch') as { minimatch(file: string, pattern: string, options?: { dot?: boolean }): boolean };

let config: any;
beforeAll(async () => {
  config = await getConfig(repoRoot, path.join(repoRoot, 'electron-builder.yml'));
});

/** A PNG's width and height from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'PNG signature').toBe(true);
  expect(png.toString('ascii', 12, 16)).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** The images of an ICO file: header, directory entries, and the PNG each points at. */
function readIco(file: string): number[] {
  const data = fs.readFileSync(file);
  expect([data.readUInt16LE(0), data.readUInt16LE(2)]).toEqual([0, 1]);
  const count = data.readUInt16LE(4);
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const entry = 6 + 16 * i;
    const size = data[entry] || 256;
    expect(data[entry + 1] || 256).toBe(size);
    expect(data.readUInt16LE(entry + 6)).toBe(32);
    const length = data.readUInt32LE(entry + 8);
    const offset = data.readUInt32LE(entry + 12);
    expect(offset + length).toBeLessThanOrEqual(data.length);
    expect(pngSize(data.subarray(offset, offset + length))).toEqual({ width: size, height: size });
    sizes.push(size);
  }
  return sizes;
}

/** The entries of an ICNS file: type → PNG size. */
function readIcns(file: string): Record<string, number> {
  const data = fs.readFileSync(file);
  expect(data.toString('ascii', 0, 4)).toBe('icns');
  expect(data.readUInt32BE(4)).toBe(data.length);
  const entries: Record<string, number> = {};
  for (let at = 8; at < data.length; ) {
    const type = data.toString('ascii', at, at + 4);
    const length = data.readUInt32BE(at + 4);
    expect(length).toBeGreaterThan(8);
    entries[type] = pngSize(data.subarray(at + 8, at + length)).width;
    at += length;
  }
  return entries;
}

/** The Linux icon set: NxN.png → N, checked against the PNG inside. */
function readIconSet(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .map((name) => {
      const match = /^(\d+)x(\d+)\.png$/.exec(name);
      expect(match, name).not.toBeNull();
      const size = Number(match![1]);
      expect(pngSize(fs.readFileSync(path.join(dir, name)))).toEqual({ width: size, height: size });
      return size;
    })
    .sort((a, b) => a - b);
}

const fromRoot = (p: string) => path.resolve(repoRoot, p);

describe('electron-builder.yml', () => {
  it('is valid for the installed electron-builder (its own schema)', async () => {
    await expect(validateConfiguration(config, { isEnabled: false, add: () => undefined })).resolves.toBeUndefined();
  });

  it('makes AppImage and deb on Linux, NSIS on Windows, dmg on macOS', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.directories.output).toBe('dist');
  });

  it('ships the built app: the main entry package.json names is in the files', () => {
    const main = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).main as string;
    // electron-builder's loader turns the list into file sets
    const patterns: string[] = config.files.flatMap((set: string | { filter: string[] }) => (typeof set === 'string' ? [set] : set.filter));
    expect(patterns.some((pattern) => !pattern.startsWith('!') && minimatch(main, pattern))).toBe(true);
    expect(patterns).toContain('package.json');
  });

  it('unpacks every native file of the shipped packages from app.asar', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const shipped = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies });
    const nativeFiles: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.(node|so(\.\d+)*|dylib|dll)$/.test(entry.name)) nativeFiles.push(path.relative(repoRoot, full).split(path.sep).join('/'));
      }
    };
    // the packages themselves and the platform packages they pull in (sharp's @img/*)
    const roots = [...shipped, ...fs.readdirSync(path.join(repoRoot, 'node_modules', '@img')).map((name) => `@img/${name}`)];
    for (const name of roots) {
      const dir = path.join(repoRoot, 'node_modules', name);
      if (fs.existsSync(dir)) walk(dir);
    }
    // sharp's own binaries are in its platform package @img/sharp-<platform> (with libvips)
    for (const expected of ['@img/sharp-', 'better-sqlite3', 'onnxruntime-node', 'webgpu']) {
      expect(nativeFiles.some((file) => file.startsWith(`node_modules/${expected}`)), `${expected} has native files here`).toBe(true);
    }
    const unpacked = (file: string) => config.asarUnpack.some((pattern: string) => minimatch(file, pattern, { dot: true }));
    expect(nativeFiles.filter((file) => !unpacked(file))).toEqual([]);
    // whole packages, so the shared libraries beside each .node (libvips, libonnxruntime, Dawn) come along
    for (const pkgName of ['sharp', '@img', 'better-sqlite3', 'onnxruntime-node', 'webgpu']) {
      expect(config.asarUnpack).toContain(`node_modules/${pkgName}/**`);
    }
  });

  it('each platform leaves the native binaries of the other platforms out', () => {
    const excluded = (platform: string, file: string) => config[platform].files.some((pattern: string) => minimatch(file, pattern.slice(1), { dot: true }));
    expect(excluded('linux', 'node_modules/onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime.dll')).toBe(true);
    expect(excluded('linux', 'node_modules/webgpu/dist/darwin-universal/dawn.node')).toBe(true);
    expect(excluded('linux', 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node')).toBe(false);
    expect(excluded('linux', 'node_modules/webgpu/dist/linux-x64/dawn.node')).toBe(false);
    expect(excluded('win', 'node_modules/onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime.dll')).toBe(false);
    expect(excluded('win', 'node_modules/webgpu/dist/linux-x64/dawn.node')).toBe(true);
    expect(excluded('mac', 'node_modules/webgpu/dist/darwin-universal/dawn.node')).toBe(false);
    expect(excluded('mac', 'node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/libonnxruntime.so.1')).toBe(true);
  });

  it('ships the Electron-ABI SQLite module where the packaged app loads it from', async () => {
    const { electronSqlitePaths } = (await import(/* @vite-ignore */ pathToFileURL(path.join(repoRoot, 'scripts', 'electron-native.mjs')).href)) as {
      electronSqlitePaths(version: string): { forPackaging: string };
    };
    expect(config.npmRebuild).toBe(false);
    const [resource] = config.extraResources as { from: string; to: string }[];
    expect(fromRoot(resource.from)).toBe(electronSqlitePaths('any').forPackaging);
    const resourcesPath = makeTempDir('packaging');
    try {
      const shipped = path.join(resourcesPath, resource.to);
      fs.mkdirSync(path.dirname(shipped), { recursive: true });
      fs.writeFileSync(shipped, '');
      expect(sqliteBinding({ isPackaged: true, appPath: '/nowhere', resourcesPath, electronVersion: '41.0.0', requested: '' })).toEqual({ path: shipped });
    } finally {
      removeDir(resourcesPath);
    }
  });

  it('sets the Electron fuses, runAsNode off, and no code of the app runs the Electron binary as Node', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
    // With the fuse off a worker forked with ELECTRON_RUN_AS_NODE would start a second copy of the
    // app, not the worker: everything under main/ and electron/ (what runs inside Electron) starts
    // workers through the main process (utilityProcess, and the relay for workers' own workers).
    expect(settingsOfRunAsNode("const child = launchWorker(entry, { env: { ...process.env, ...env, ELECTRON_RUN_AS_NODE: '1' } });")).toHaveLength(1);
    expect(settingsOfRunAsNode("env['ELECTRON_RUN_AS_NODE'] = '1';\nspawn('sh', ['-c', 'ELECTRON_RUN_AS_NODE=1 app']);")).toHaveLength(2);
    expect(settingsOfRunAsNode("filter(([key]) => key !== 'ELECTRON_RUN_AS_NODE')\n// ELECTRON_RUN_AS_NODE: said in a comment\n * ELECTRON_RUN_AS_NODE=1 in a doc comment")).toEqual([]);
    const found = ['main', 'electron'].flatMap((room) =>
      sourceFiles(path.join(repoRoot, room)).flatMap((file) => settingsOfRunAsNode(fs.readFileSync(file, 'utf8')).map((line) => `${path.relative(repoRoot, file)}: ${line}`)),
    );
    expect(found).toEqual([]);
  });
});

/** The lines of code (comments aside) that set ELECTRON_RUN_AS_NODE: as an object key, by assignment, or in a command line. */
function settingsOfRunAsNode(source: string): string[] {
  return source
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => !line.startsWith('//') && !line.startsWith('*') && !line.startsWith('/*'))
    .filter((line) => /ELECTRON_RUN_AS_NODE['"`]?\s*:/.test(line) || /ELECTRON_RUN_AS_NODE['"`]?\]?\s*=(?!=)/.test(line));
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('icons and the desktop entry', () => {
  it('exist where the config names them and hold every size each platform wants', () => {
    expect(config.directories.buildResources).toBe('resources');
    expect(readIco(fromRoot(config.win.icon))).toEqual([16, 24, 32, 48, 64, 128, 256]);
    expect(config.nsis.installerIcon).toBe(config.win.icon);
    expect(config.nsis.uninstallerIcon).toBe(config.win.icon);
    expect(readIcns(fromRoot(config.mac.icon))).toEqual({ ic11: 32, ic12: 64, ic07: 128, ic13: 256, ic08: 256, ic14: 512, ic09: 512, ic10: 1024 });
    expect(config.dmg.icon).toBe(config.mac.icon);
    expect(readIconSet(fromRoot(config.linux.icon))).toEqual([16, 24, 32, 48, 64, 128, 256, 512, 1024]);
    expect(pngSize(fs.readFileSync(path.join(repoRoot, 'resources', 'icon.png')))).toEqual({ width: 1024, height: 1024 });
  });

  it('the desktop entry in resources/ says what electron-builder writes into the packages', () => {
    const text = fs.readFileSync(path.join(repoRoot, 'resources', 'effitune.desktop'), 'utf8');
    expect(text.startsWith('[Desktop Entry]\n')).toBe(true);
    const entry = Object.fromEntries(
      text
        .split('\n')
        .slice(1)
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(entry).toMatchObject({ Type: 'Application', Terminal: 'false', Icon: config.linux.executableName, Exec: `${config.linux.executableName} %U` });
    expect(entry.Name).toBe(config.productName);
    expect(entry.Categories).toBe(`${config.linux.category};`);
    for (const [key, value] of Object.entries(config.linux.desktop.entry)) expect(entry[key], key).toBe(value);
    expect(Object.keys(entry).sort()).toEqual(['Categories', 'Comment', 'Exec', 'GenericName', 'Icon', 'Keywords', 'Name', 'StartupWMClass', 'Terminal', 'Type']);
  });
});

describe('scripts/make-icons.mjs', () => {
  let out: string;
  beforeAll(() => {
    out = makeTempDir('make-icons');
  });
  afterAll(() => removeDir(out));

  it('makes the same set of icons from resources/icon.svg', () => {
    const run = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'make-icons.mjs'), '--out', out], { cwd: repoRoot, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const committed = path.join(repoRoot, 'resources');
    expect(readIco(path.join(out, 'icon.ico'))).toEqual(readIco(path.join(committed, 'icon.ico')));
    expect(readIcns(path.join(out, 'icon.icns'))).toEqual(readIcns(path.join(committed, 'icon.icns')));
    expect(readIconSet(path.join(out, 'icons'))).toEqual(readIconSet(path.join(committed, 'icons')));
    expect(pngSize(fs.readFileSync(path.join(out, 'icon.png')))).toEqual({ width: 1024, height: 1024 });
  });
});
