#!/usr/bin/env node
/**
 * Builds better-sqlite3 for Electron's ABI without touching node_modules: the Node build there is
 * what tests and the CLI load. The copy lives in .cache/electron-native/<electron version>/better-sqlite3
 * and the Electron main process passes its .node file to better-sqlite3 (EFFITUNE_SQLITE_BINDING).
 * The file is also copied to .cache/electron-native/for-packaging/, which electron-builder ships.
 *
 * First a prebuilt binary is tried (prebuild-install, as better-sqlite3's own install does), then
 * a compile with node-gyp against Electron's headers. Both need the internet once per Electron version.
 *
 *   node scripts/electron-native.mjs [--force]     prints the binding's path on stdout
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repoRoot, 'package.json'));

export function installedElectronVersion() {
  try {
    return JSON.parse(fs.readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

export function electronSqlitePaths(electronVersion) {
  const moduleDir = path.join(repoRoot, '.cache', 'electron-native', electronVersion, 'better-sqlite3');
  return {
    moduleDir,
    binding: path.join(moduleDir, 'build', 'Release', 'better_sqlite3.node'),
    forPackaging: path.join(repoRoot, '.cache', 'electron-native', 'for-packaging', 'better_sqlite3.node'),
  };
}

function run(command, args, cwd, log) {
  log(`$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  return result.status === 0;
}

/**
 * Returns the path of better_sqlite3.node built for the given Electron version, building it when
 * missing. Throws an Error in words when neither a prebuilt binary nor a compile worked.
 */
export function ensureElectronSqlite({ electronVersion = installedElectronVersion(), force = false, log = (m) => console.error(m) } = {}) {
  if (!electronVersion) throw new Error('the electron package is not installed (npm install could not download it), so there is nothing to build for');
  const paths = electronSqlitePaths(electronVersion);
  if (force || !fs.existsSync(paths.binding)) {
    log(`Building better-sqlite3 for Electron ${electronVersion} in ${paths.moduleDir} (once per Electron version)...`);
    const source = path.dirname(require.resolve('better-sqlite3/package.json'));
    fs.rmSync(paths.moduleDir, { recursive: true, force: true });
    // The Node build in source/build must not be copied: node-gyp would reuse its objects.
    fs.cpSync(source, paths.moduleDir, { recursive: true, filter: (src) => path.relative(source, src).split(path.sep)[0] !== 'build' });
    const platformArgs = [`--arch=${process.arch}`, `--platform=${process.platform}`];
    const prebuilt = run(
      process.execPath,
      [require.resolve('prebuild-install/bin.js'), '--runtime=electron', `--target=${electronVersion}`, ...platformArgs, '--verbose'],
      paths.moduleDir,
      log,
    );
    if (!prebuilt || !fs.existsSync(paths.binding)) {
      log('No prebuilt binary; compiling with node-gyp against the Electron headers...');
      const compiled = run(
        process.execPath,
        [
          require.resolve('node-gyp/bin/node-gyp.js'),
          'rebuild',
          '--release',
          '--runtime=electron',
          `--target=${electronVersion}`,
          `--arch=${process.arch}`,
          '--dist-url=https://electronjs.org/headers',
        ],
        paths.moduleDir,
        log,
      );
      if (!compiled || !fs.existsSync(paths.binding)) {
        throw new Error(
          `could not build better-sqlite3 for Electron ${electronVersion}: no prebuilt binary could be downloaded and node-gyp failed ` +
            '(it needs the internet once, Python 3 and a C++ compiler; see the messages above)',
        );
      }
    }
  }
  fs.mkdirSync(path.dirname(paths.forPackaging), { recursive: true });
  fs.copyFileSync(paths.binding, paths.forPackaging);
  return paths.binding;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureElectronSqlite({ force: process.argv.includes('--force') }));
  } catch (err) {
    console.error(`electron-native: ${err.message}`);
    process.exit(1);
  }
}
