/**
 * Bundled entries: the CLI, the HTTP server and the worker processes as plain ESM files built from
 * the TypeScript in main/ by esbuild, so that starting one costs what Node needs to load it.
 *
 * Through tsx every process paid ~2.2 s before its first line ran (service.ts pulls in ~300 of our
 * modules, and tsx's loader hooks answer each resolve and load from another thread): every CLI
 * command, trainer, predictor and probe. Bundled, the same import takes ~0.5 s.
 *
 * There is still no build step to remember: the bundles are rebuilt when the sources change. A
 * fingerprint of every file under main/ (path, size, mtime) plus tsconfig.json and package.json
 * names the folder (node_modules/.cache/effitune/entries-<fingerprint>/); a fresh folder is used, a
 * stale one never is. `freshEntries()` only looks (synchronous, a few ms: the worker launcher asks it
 * before each fork and falls back to tsx); `ensureEntries()` builds when needed (the CLI, `npm start`
 * and `npm test` call it). EFFITUNE_NO_BUNDLES=1 keeps everything on tsx.
 *
 * `import.meta.url` keeps meaning the source file's URL inside the bundle (a plugin writes each
 * module's own URL in), so paths the code resolves from its own location (the renderer build, the
 * worker sources, package.json) are what they are under tsx. Packages stay in node_modules.
 *
 * Built into a temporary folder and renamed into place, so processes that build at once (parallel
 * tests) never see half a bundle. Old folders are removed after a day (a long-running process may
 * still load a lazy chunk from its own).
 */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const ROOT = path.resolve(__dirname, '..');

/** entry name → source (relative to the repository); the worker names are process-launcher.ts's WorkerEntry */
const ENTRIES = {
  cli: 'main/cli/main.ts',
  server: 'main/server/server.ts',
  trainer: 'main/train/trainer-process.ts',
  estimator: 'main/train/estimate-process.ts',
  probe: 'main/backend/probe-child.ts',
  'provider-probe': 'main/inference/provider-probe-child.ts',
  predictor: 'main/eval/predictor-process.ts',
};

const DONE = 'complete.json';
const KEEP_OLD_MS = 24 * 3600 * 1000;

/** Where the bundles go: inside the repository, as Node finds their packages in its node_modules from there. */
function cacheRoot(root) {
  return process.env.EFFITUNE_ENTRY_CACHE || path.join(root, 'node_modules', '.cache', 'effitune');
}

function sourceFiles(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(full, out);
    else out.push(full);
  }
  return out;
}

/** A hash of what the bundles are built from: every file under main/, tsconfig.json, package.json. */
function fingerprint(root = ROOT) {
  const hash = crypto.createHash('sha256');
  const files = sourceFiles(path.join(root, 'main'), []).concat([path.join(root, 'tsconfig.json'), path.join(root, 'package.json')]);
  files.sort();
  for (const file of files) {
    const st = fs.statSync(file);
    hash.update(`${path.relative(root, file)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

/** The folder of bundles built from the sources as they are now, or null (none built yet, or disabled). */
function freshEntries(root = ROOT) {
  if (process.env.EFFITUNE_NO_BUNDLES === '1') return null;
  try {
    const dir = path.join(cacheRoot(root), `entries-${fingerprint(root)}`);
    return fs.existsSync(path.join(dir, DONE)) ? dir : null;
  } catch {
    return null;
  }
}

/** esbuild plugin: `import.meta.url` in each of our modules becomes that module's own file URL. */
function sourceUrls(root) {
  return {
    name: 'source-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!args.path.startsWith(path.join(root, 'main') + path.sep)) return undefined;
        const text = await fs.promises.readFile(args.path, 'utf8');
        const url = JSON.stringify(pathToFileURL(args.path).href);
        return { contents: text.includes('import.meta.url') ? text.split('import.meta.url').join(url) : text, loader: 'ts' };
      });
    },
  };
}

function removeOld(base, keep) {
  let names;
  try {
    names = fs.readdirSync(base);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith('entries-') || name === keep) continue;
    const full = path.join(base, name);
    try {
      if (now - fs.statSync(full).mtimeMs > KEEP_OLD_MS) fs.rmSync(full, { recursive: true, force: true });
    } catch {
      // another process removed it first
    }
  }
}

/**
 * The folder of fresh bundles, built first if needed (about a second). Returns null when they cannot
 * be built here (EFFITUNE_NO_BUNDLES, esbuild missing, a read-only install); `reason` says why. A
 * source that does not compile fails the build: null too, and tsx then reports the error as before.
 */
async function ensureEntries(root = ROOT) {
  if (process.env.EFFITUNE_NO_BUNDLES === '1') return { dir: null, reason: 'EFFITUNE_NO_BUNDLES=1' };
  const base = cacheRoot(root);
  const name = `entries-${fingerprint(root)}`;
  const dir = path.join(base, name);
  if (fs.existsSync(path.join(dir, DONE))) return { dir, reason: null };
  const tmp = path.join(base, `${name}.tmp-${process.pid}-${Date.now()}`);
  try {
    const esbuild = require('esbuild');
    fs.mkdirSync(tmp, { recursive: true });
    const started = Date.now();
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([n, src]) => [n, path.join(root, src)])),
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      sourcemap: 'linked',
      tsconfig: path.join(root, 'tsconfig.json'),
      logLevel: 'silent',
      plugins: [sourceUrls(root)],
    });
    fs.writeFileSync(path.join(tmp, DONE), JSON.stringify({ builtFrom: name, ms: Date.now() - started, entries: ENTRIES }, null, 1));
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // another process put the same bundles there first
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(path.join(dir, DONE))) throw err;
    }
    removeOld(base, name);
    return { dir, reason: null };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const first = err && err.errors && err.errors[0] ? `${err.errors[0].text} (${err.errors[0].location ? err.errors[0].location.file : ''})` : String(err && err.message);
    return { dir: null, reason: `could not bundle the entries: ${first}` };
  }
}

/** The bundled file of an entry in a folder from freshEntries/ensureEntries. */
function entryFile(dir, entry) {
  if (!ENTRIES[entry]) throw new Error(`no bundled entry named ${entry}`);
  return path.join(dir, `${entry}.mjs`);
}

module.exports = { ENTRIES, fingerprint, freshEntries, ensureEntries, entryFile };
