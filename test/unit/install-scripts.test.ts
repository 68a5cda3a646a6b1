/**
 * npm 11 runs a dependency's install scripts only when package.json's `allowScripts` approves it
 * (today it warns about the rest; its documentation says they are skipped). Skipped, the app breaks
 * on a fresh machine in ways far from the cause: better-sqlite3 has no binary, webgpu no dawn.node,
 * Electron no binary for `npm start`. So every installed package with an install script is decided
 * in allowScripts, and the ones the app needs are approved, including the optional ones that
 * cannot install here (Electron, tfjs-node).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };

/** name → the install script npm would run (a binding.gyp without one is an implicit `node-gyp rebuild`) */
function installScripts(): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (modules: string) => {
    if (!fs.existsSync(modules)) return;
    for (const entry of fs.readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@')) {
        for (const scoped of fs.readdirSync(path.join(modules, entry))) visitPackage(path.join(modules, entry, scoped), `${entry}/${scoped}`);
      } else visitPackage(path.join(modules, entry), entry);
    }
  };
  const visitPackage = (dir: string, name: string) => {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) return;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { scripts?: Record<string, string> };
    const scripts = pkg.scripts ?? {};
    const script = ['preinstall', 'install', 'postinstall'].map((k) => scripts[k]).find(Boolean) ?? (fs.existsSync(path.join(dir, 'binding.gyp')) ? 'node-gyp rebuild' : undefined);
    if (script) found.set(name, script);
    visit(path.join(dir, 'node_modules'));
  };
  visit(path.join(repoRoot, 'node_modules'));
  return found;
}

describe('allowScripts in package.json', () => {
  it('decides every installed package that has an install script', () => {
    const allow = manifest.allowScripts ?? {};
    const undecided = [...installScripts()].filter(([name]) => !(name in allow)).map(([name, script]) => `${name} (${script})`);
    expect(undecided, 'add these to allowScripts (npm install-scripts approve/deny)').toEqual([]);
  });

  it('approves the packages whose install step the app needs', () => {
    const allow = manifest.allowScripts ?? {};
    // the native SQLite binding, ONNX Runtime's installer (reads .npmrc), Dawn for WebGPU, the
    // bundler, Electron's binary download, libtensorflow for the optional tfjs-node rungs
    for (const name of ['better-sqlite3', 'onnxruntime-node', 'webgpu', 'esbuild', 'electron', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
      expect(allow[name], name).toBe(true);
    }
  });
});
