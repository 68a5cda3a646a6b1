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
// run.ts imports its case by name at run time: the gpu-train case is an entry of its own
const ENTRIES = ['test/bench/run.ts', 'test/bench/gpu-train.ts', 'main/backend/probe-child.ts'];

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
// native packages the gpu-train bench never loads (sharp's libvips, ONNX Runtime, SQLite) stay home
for (const heavy of ['sharp', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64', 'onnxruntime-node', 'onnxruntime-common', 'better-sqlite3', 'h5wasm']) packages.delete(heavy);
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
const exclude = ['node_modules/webgpu/dist/darwin-universal', 'node_modules/webgpu/dist/linux-arm64', 'node_modules/webgpu/dist/win32-x64', 'node_modules/webgpu/dist/win32-arm64', '*.map', '*.d.ts', '*.md'];
execFileSync('tar', ['-C', stage, '-chf', path.join(out, 'gpu-bench.tar'), ...exclude.map((e) => `--exclude=${e}`), ...files], { stdio: 'inherit' });
execFileSync('xz', ['-T2', '-6', path.join(out, 'gpu-bench.tar')], { stdio: 'inherit' });
fs.rmSync(stage, { recursive: true, force: true });
const bytes = fs.statSync(path.join(out, 'gpu-bench.tar.xz')).size;
console.log(JSON.stringify({ archive: '.device/gpu-bench.tar.xz', mib: Math.round(bytes / 2 ** 20), packages: [...packages].sort(), vulkanLoader: vulkan ?? null }));
if (bytes > 60 * 2 ** 20) throw new Error(`the archive is ${Math.round(bytes / 2 ** 20)} MiB; the device tool carries 64 MiB in all`);
