/**
 * electron-vite build of the desktop app: the main process (electron/main.ts, bundling the engine
 * in main/) and the engine's worker processes (the trainer, the estimator, the backend probe and the predictor, started with
 * utilityProcess by electron/worker-launcher.ts, which finds them as out/electron/<entry>.js), the
 * sandboxed preload (CommonJS, as sandboxed preloads must be) and the renderer (the same Vite config
 * browser mode uses). Output: out/electron, out/preload, out/renderer.
 */
import { defineConfig } from 'electron-vite';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import rendererConfig from './renderer/vite.config';

const root = path.dirname(fileURLToPath(import.meta.url));

// electron-vite takes Electron's version (for its Node build target) from the installed electron
// package; where that optional package could not be installed, use the major version package.json asks for.
if (!process.env.ELECTRON_MAJOR_VER && !fs.existsSync(path.join(root, 'node_modules/electron/package.json'))) {
  const wanted = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).optionalDependencies?.electron as string | undefined;
  const major = wanted?.match(/\d+/)?.[0];
  if (major) process.env.ELECTRON_MAJOR_VER = major;
}

/** The engine's worker entries (main/workers/process-launcher.ts WorkerEntry → source), built as out/electron/<entry>.js. */
export const workerEntries = {
  trainer: path.join(root, 'main/train/trainer-process.ts'),
  estimator: path.join(root, 'main/train/estimate-process.ts'),
  probe: path.join(root, 'main/backend/probe-child.ts'),
  'provider-probe': path.join(root, 'main/inference/provider-probe-child.ts'),
  predictor: path.join(root, 'main/eval/predictor-process.ts'),
};

/** Native or very large packages stay in node_modules and are loaded at run time, never bundled. */
const runtimeExternals = [/^better-sqlite3/, /^sharp/, /^@img\//, /^@tensorflow\//, /^onnxruntime-node/, /^webgpu/, /^h5wasm/];

export default defineConfig({
  main: {
    build: {
      outDir: path.join(root, 'out/electron'),
      emptyOutDir: true,
      externalizeDeps: true,
      rollupOptions: {
        input: { main: path.join(root, 'electron/main.ts'), ...workerEntries },
        external: runtimeExternals,
        // code shared by main.js and the workers goes into chunks/ beside them
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: path.join(root, 'out/preload'),
      emptyOutDir: true,
      rollupOptions: {
        input: { preload: path.join(root, 'electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    ...rendererConfig,
    build: {
      ...rendererConfig.build,
      rollupOptions: { input: path.join(root, 'renderer/index.html') },
    },
  },
});
