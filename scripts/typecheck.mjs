#!/usr/bin/env node
/**
 * `npm run typecheck`: the engine, renderer, tests and scripts (tsconfig.json), the layer check
 * (scripts/check-layers.mjs, ARCHITECTURE.md), then the desktop
 * shell (electron/tsconfig.json) when the electron package, which carries its types, is installed.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installedElectronVersion } from './electron-native.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(path.join(repoRoot, 'package.json')).resolve('typescript/bin/tsc');

function check(project) {
  console.error(`tsc -p ${project}`);
  return spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: repoRoot, stdio: 'inherit' }).status === 0;
}

let ok = check('tsconfig.json');
console.error('node scripts/check-layers.mjs');
ok = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'check-layers.mjs')], { cwd: repoRoot, stdio: 'inherit' }).status === 0 && ok;
if (installedElectronVersion()) ok = check('electron/tsconfig.json') && ok;
else console.error('Skipped electron/: the electron package is not installed, so its types are not available.');
process.exitCode = ok ? 0 : 1;
