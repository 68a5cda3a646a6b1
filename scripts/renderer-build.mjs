/**
 * Builds the renderer (out/renderer) when it is missing or older than its sources. Used by
 * `npm start` (browser mode serves it) and `npm test` (the e2e tests load it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(target) {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(target).reduce((newest, name) => Math.max(newest, newestMtime(path.join(target, name))), stat.mtimeMs);
}

/** The renderer imports main/contract (contract, client), so those count as its sources too. */
export function rendererIsStale() {
  const builtAt = fs.statSync(path.join(repoRoot, 'out', 'renderer', 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = ['renderer', 'main/contract', 'package-lock.json'].map((p) => path.join(repoRoot, p));
  return builtAt === 0 ? 'missing' : builtAt < Math.max(...sources.map(newestMtime)) ? 'stale' : null;
}

export async function ensureRendererBuilt({ log = (m) => console.error(m), force = false } = {}) {
  const state = force ? 'forced' : rendererIsStale();
  if (!state) return false;
  log(state === 'missing' ? 'Building the user interface (first start)...' : 'Building the user interface (its sources changed)...');
  const { build } = await import('vite');
  await build({ configFile: path.join(repoRoot, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
  return true;
}
