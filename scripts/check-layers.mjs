#!/usr/bin/env node
/**
 * The layer check (ARCHITECTURE.md): reads every import in main/, electron/ and renderer/ and
 * fails, naming the file and line, when
 *   - a file in main/ imports a room above its own (the rooms form one line, ROOMS below),
 *     or a peer room of the same rank (inference/engine, scaling/handoff, the doors);
 *   - main/contract imports anything but zod and itself;
 *   - main/ imports the electron package;
 *   - a door (cli, server, electron) imports another door;
 *   - renderer/ imports anything of the repository but main/contract, or a Node built-in.
 * Usage: node scripts/check-layers.mjs [root]   (root defaults to the repository; tests pass a
 * planted tree). Prints one line per violation and a summary; exit status 1 on any violation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Rooms of main/ from the bottom up; rooms in one inner array are peers and may not import each other. */
export const ROOMS = [
  ['contract'],
  ['workers'],
  ['project'],
  ['dataset'],
  ['model'],
  ['backend'],
  ['inference', 'engine'],
  ['train'],
  ['eval'],
  ['export'],
  ['scaling', 'handoff'],
  ['service'],
  ['cli', 'server', 'electron'],
];
const DOORS = new Set(['cli', 'server', 'electron']);
const RANK = new Map(ROOMS.flatMap((peers, rank) => peers.map((room) => [room, rank])));
const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Every import specifier of a source file, with its line number. */
export function importsOf(text) {
  const found = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const line = text.slice(0, match.index).split('\n').length;
      found.push({ specifier: match[1], line });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

/** The room of a repository path: 'main/<room>/…' → room, 'electron/…' → electron, 'renderer/…' → renderer. */
function roomOf(relPath) {
  const parts = relPath.split('/');
  if (parts[0] === 'electron') return 'electron';
  if (parts[0] === 'renderer') return 'renderer';
  if (parts[0] === 'main') return parts.length > 2 ? parts[1] : '(main root)';
  return null;
}

function walk(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === 'out') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function checkImport(fromRel, spec) {
  const from = roomOf(fromRel);
  const packageName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  if (!spec.startsWith('.')) {
    if (from === 'contract' && packageName !== 'zod') return `the contract imports only zod, not '${spec}'`;
    if (fromRel.startsWith('main/') && packageName === 'electron') return `main/ never imports electron`;
    if (from === 'renderer' && BUILTINS.has(spec)) return `the renderer runs in a browser: no Node built-in '${spec}'`;
    return null;
  }
  const targetRel = path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), spec));
  const target = roomOf(targetRel);
  if (target === null || target === from) return null;
  if (from === 'renderer') {
    return targetRel.startsWith('main/contract/') || targetRel === 'main/contract'
      ? null
      : `the renderer imports only main/contract, not ${targetRel}`;
  }
  if (target === 'renderer') return `${from} imports the renderer (${targetRel})`;
  if (from === 'contract') return `the contract imports only zod, not ${targetRel}`;
  if (DOORS.has(from) && DOORS.has(target)) return `door ${from} imports door ${target} (${targetRel})`;
  const fromRank = RANK.get(from);
  const targetRank = RANK.get(target);
  if (fromRank === undefined) return `${fromRel} is in no room of main/ (rooms: ${[...RANK.keys()].join(', ')})`;
  if (targetRank === undefined) return `${targetRel} is in no room of main/ (rooms: ${[...RANK.keys()].join(', ')})`;
  if (targetRank > fromRank) return `${from} imports ${target}, a room above it (${targetRel})`;
  if (targetRank === fromRank) return `${from} imports its peer ${target} (${targetRel})`;
  return null;
}

/** All violations under a repository root, as { file, line, message }. */
export function checkLayers(root) {
  const violations = [];
  let files = 0;
  for (const top of ['main', 'electron', 'renderer/src']) {
    for (const file of walk(path.join(root, top))) {
      files += 1;
      const rel = path.relative(root, file).split(path.sep).join('/');
      for (const { specifier, line } of importsOf(fs.readFileSync(file, 'utf8'))) {
        const message = checkImport(rel, specifier);
        if (message) violations.push({ file: rel, line, message });
      }
    }
  }
  return { files, violations };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const { files, violations } = checkLayers(root);
  for (const v of violations) console.error(`${v.file}:${v.line}: ${v.message}`);
  console.error(
    violations.length === 0
      ? `layer check: ${files} files, every import runs down the line ${ROOMS.map((p) => p.join('/')).join(' < ')} < renderer`
      : `layer check: ${violations.length} violation(s) in ${files} files`,
  );
  process.exitCode = violations.length === 0 ? 0 : 1;
}
