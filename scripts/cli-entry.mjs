/**
 * The CLI as bin/effitune.mjs and `npm start` run it: from its bundle (entry-bundles.cjs, rebuilt
 * when a source changes; a command then starts ~2 s sooner), or where no bundle can be built from
 * the TypeScript sources through tsx. Returns runCli and the doors it may open (the HTTP server for
 * `serve`): the composition root hands the CLI the server, the CLI never imports it.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { ensureEntries, entryFile } = require('./entry-bundles.cjs');

export async function loadCli() {
  const { dir } = await ensureEntries();
  if (dir) {
    process.setSourceMapsEnabled(true);
    const { runCli } = await import(pathToFileURL(entryFile(dir, 'cli')).href);
    return { runCli, doors: { http: () => import(pathToFileURL(entryFile(dir, 'server')).href) } };
  }
  const { register } = await import('tsx/esm/api');
  // our own tsconfig, not whatever tsconfig.json sits in the folder the user runs us from
  register({ tsconfig: path.join(repoRoot, 'tsconfig.json') });
  const { runCli } = await import('../main/cli/main.ts');
  return { runCli, doors: { http: () => import('../main/server/server.ts') } };
}
