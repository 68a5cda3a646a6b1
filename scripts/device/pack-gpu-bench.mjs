#!/usr/bin/env node
/**
 * Packs what `npm run bench -- gpu-train` needs on a machine without Node (the lent GPU machine of
 * the `device` tool) into one archive, .device/gpu-bench.tar.xz (ignored by git, carried by the
 * run): this Node binary, the npm packages the bench and its probe child import (found by esbuild's
 * metafile from their entries, plus tsx, which runs the TypeScript sources as they are, and of the
 * `webgpu` package only the Linux x64 dawn.node), and the Vulkan loader libvulkan.so.1 (Dawn opens
 * it; a GPU container may have the NVIDIA driver without it). The sources travel as tracked files.
 * scripts/device/gpu-bench.sh unpacks and runs it.
 *
 *   node scripts/device/pack-gpu-bench.mjs     (about a minute: xz of ~150 MB)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const out = path.join(root, '.device');
const stage = path.join(out, 'stage');
// run.ts imports its case by name at run time: the gpu-train and gpu-run cases are entries of their
// own; gpu-run starts `effitune train` (the CLI through tsx, its trainer process), which read images
// (sharp) and the project (better-sqlite3)
const ENTRIES = ['test/bench/run.ts', 'test/bench/gpu-train.ts', 'test/bench/gpu-run.ts', 'main/backend/probe-child.ts', 'main/cli/main.ts', 'main/train/trainer-process.ts'];

/** Package folders (node_modules/NAME or node_modules/@scope/NAME) the entries import, statically or by a literal dynamic import. */
async function importedPackages() {
  const result = await esbuild.build({
    entryPoints: ENTRIES.map((e) => path.join(root, e)),
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    outdir: path.join(out, 'unused'),
    metafile: true,
    logLevel: 'silent',
    loader: { '.node': 'empty', '.wasm': 'empty' },
    external: ['*.node'],
  });
  const packages = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) packages.add(m[1]);
  }
  return packages;
}

/** A package and what it depends on (dependencies and optional ones that are installed), by name. */
function withDependencies(names) {
  const all = new Set();
  const visit = (name) => {
    if (all.has(name)) return;
    const manifest = path.join(root, 'node_modules', name, 'package.json');
    if (!fs.existsSync(manifest)) return;
    all.add(name);
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep);
  };
  for (const n of names) visit(n);
  return all;
}

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(stage, 'bin'), { recursive: true });
const packages = withDependencies([...(await importedPackages()), 'tsx', 'webgpu']);
// ONNX Runtime (288 MB, imported only when something runs an ONNX model) stays home; of the native
// packages a training run needs, only Linux x64's builds travel (sharp's libvips, SQLite's addon)
for (const heavy of ['onnxruntime-node', 'onnxruntime-common']) packages.delete(heavy);
const files = ['bin/node'];
fs.copyFileSync(process.execPath, path.join(stage, 'bin/node'));
for (const name of packages) files.push(path.join('node_modules', name));
const vulkan = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/lib/x86_64-linux-gnu/libvulkan.so.1'].find((f) => fs.existsSync(f));
if (vulkan) {
  fs.mkdirSync(path.join(stage, 'lib'));
  fs.copyFileSync(fs.realpathSync(vulkan), path.join(stage, 'lib/libvulkan.so.1'));
  files.push('lib/libvulkan.so.1');
}
fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'));
// of webgpu only Linux x64's dawn.node: the other platforms' builds are 100 MB
// better-sqlite3's SQLite sources and build intermediates: only its addon is loaded
const exclude = ['node_modules/better-sqlite3/deps', 'node_modules/better-sqlite3/src', 'node_modules/better-sqlite3/build/Release/obj*', 'node_modules/better-sqlite3/build/Release/.deps', 'node_modules/better-sqlite3/build/deps', 'node_modules/better-sqlite3/build/Release/test_extension.node', 'node_modules/better-sqlite3/build/Release/*.a', 'node_modules/webgpu/dist/darwin-universal', 'node_modules/webgpu/dist/linux-arm64', 'node_modules/webgpu/dist/win32-x64', 'node_modules/webgpu/dist/win32-arm64', '*.map', '*.d.ts', '*.md'];
execFileSync('tar', ['-C', stage, '-chf', path.join(out, 'gpu-bench.tar'), ...exclude.map((e) => `--exclude=${e}`), ...files], { stdio: 'inherit' });
execFileSync('xz', ['-T2', '-6', path.join(out, 'gpu-bench.tar')], { stdio: 'inherit' });
fs.rmSync(stage, { recursive: true, force: true });
const bytes = fs.statSync(path.join(out, 'gpu-bench.tar.xz')).size;
console.log(JSON.stringify({ archive: '.device/gpu-bench.tar.xz', mib: Math.round(bytes / 2 ** 20), packages: [...packages].sort(), vulkanLoader: vulkan ?? null }));
if (bytes > 60 * 2 ** 20) throw new Error(`the archive is ${Math.round(bytes / 2 ** 20)} MiB; the device tool carries 64 MiB in all`);
