#!/usr/bin/env node
/**
 * `npm start`: the desktop app where Electron can run, otherwise the same UI in the browser.
 *
 * Desktop needs the electron package with its binary (npm may have skipped it: the binary is
 * downloaded at install time) and, on Linux, a display. Then better-sqlite3 is built for
 * Electron's ABI (once), the app is built with electron-vite and Electron is launched.
 * Otherwise the renderer is built if it is missing or stale and `effitune serve` runs in this
 * process, printing the URL (with its token) and opening a browser where there is a display.
 *
 *   npm start [-- --browser] [-- --no-open] [-- --port N]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureElectronSqlite, installedElectronVersion } from './electron-native.mjs';
import { loadCli } from './cli-entry.mjs';
import { ensureRendererBuilt } from './renderer-build.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repoRoot, 'package.json'));

let options;
try {
  ({ values: options } = parseArgs({ options: { browser: { type: 'boolean' }, 'no-open': { type: 'boolean' }, port: { type: 'string' } }, strict: true }));
} catch (err) {
  console.error(`npm start: ${err.message}\nusage: npm start [-- --browser] [-- --no-open] [-- --port N]`);
  process.exit(1);
}

/** The Electron binary's path, or why the desktop app cannot start here (in words). */
function desktopAvailability() {
  if (options.browser) return { problem: 'you asked for the browser mode (--browser)' };
  if (!installedElectronVersion()) return { problem: 'the electron package is not installed (npm could not download it)' };
  let binary;
  try {
    binary = require('electron');
  } catch {
    return { problem: "Electron's binary was not downloaded when npm installed it" };
  }
  if (typeof binary !== 'string' || !fs.existsSync(binary)) return { problem: `Electron's binary is missing (${binary})` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { problem: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  }
  return { binary };
}

async function startDesktop(binary) {
  const binding = ensureElectronSqlite();
  console.error('Building the desktop app...');
  const { build } = await import('electron-vite');
  await build({ configFile: path.join(repoRoot, 'electron.vite.config.ts'), logLevel: 'warn' });
  const child = spawn(binary, [repoRoot], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, EFFITUNE_SQLITE_BINDING: binding } });
  // Ctrl-C in the terminal reaches Electron too (same process group): here it must only not kill
  // this process before Electron has closed. A SIGTERM sent to this process alone is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

async function startBrowserMode(reason) {
  console.error(`Starting Effitune in browser mode: the desktop app cannot start here because ${reason}.`);
  await ensureRendererBuilt();
  const { runCli, doors } = await loadCli();
  const args = ['serve'];
  if (options['no-open']) args.push('--no-open');
  if (options.port !== undefined) args.push('--port', options.port);
  // a composition root like bin/effitune.mjs: the CLI opens the HTTP door through `doors`, never by import
  return runCli(args, undefined, doors);
}

async function main() {
  const desktop = desktopAvailability();
  if (desktop.binary) {
    try {
      return await startDesktop(desktop.binary);
    } catch (err) {
      return startBrowserMode(`the desktop app could not be prepared: ${err.message}`);
    }
  }
  return startBrowserMode(desktop.problem);
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`npm start: ${err.message}`);
  process.exitCode = 1;
}
