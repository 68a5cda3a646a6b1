/**
 * The two native backends: @tensorflow/tfjs-node (libtensorflow on the CPU) and
 * @tensorflow/tfjs-node-gpu (libtensorflow with CUDA). Both are optional dependencies: their
 * installers download libtensorflow, so a machine without internet (or an unsupported platform)
 * simply does not have them, and nothing here may assume they are there.
 *
 * How they join our engine, and why that is correct by construction:
 * - They are CommonJS packages with a native addon, loaded with `require` (createRequire) inside
 *   try/catch: a missing package or a missing libtensorflow / CUDA library is an exception we
 *   turn into words. (A crash inside libtensorflow cannot be caught; that is why the probe loads
 *   them in a child process first, see probe.ts.)
 * - Their entry point registers a backend named 'tensorflow' and asks tfjs to switch to it.
 *   tfjs-core keeps its engine, backend registry and kernel registry in one object on globalThis,
 *   so the backend lands in the same engine as our `import '@tensorflow/tfjs-core'` even if npm
 *   nested another copy of tfjs-core below the package. We still insist on the version we pin:
 *   kernels and gradients of two tfjs versions must not be mixed in one engine.
 * - We then await `setBackend('tensorflow')` ourselves and check `getBackend()`, so the switch is
 *   verified rather than assumed.
 * - Whether libtensorflow really found a CUDA device is asked of the backend itself
 *   (NodeJSKernelBackend.isUsingGpuDevice, from the native binding): tfjs-node-gpu silently runs
 *   on the CPU when the CUDA libraries are missing.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

const require = createRequire(import.meta.url);

export type NativePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

/** The name these packages register their backend under. */
export const NATIVE_TF_BACKEND = 'tensorflow';

export interface NativeInstall {
  installed: boolean;
  version: string | null;
}

export function nativeInstall(pkg: NativePackage): NativeInstall {
  try {
    const { version } = require(`${pkg}/package.json`) as { version: string };
    return { installed: true, version };
  } catch {
    return { installed: false, version: null };
  }
}

export interface NativeBackendInfo {
  /** libtensorflow found a CUDA device and runs on it. */
  gpu: boolean;
  device: string;
}

/** Load a native package into this process and make its backend the active one. */
export async function loadNativeTensorflow(pkg: NativePackage): Promise<NativeBackendInfo> {
  const { installed, version } = nativeInstall(pkg);
  if (!installed) throw new Error(`${pkg} is not installed`);
  if (version !== tf.version_core) throw new Error(`${pkg} is version ${version}, but Effitune uses TensorFlow.js ${tf.version_core}; install ${pkg}@${tf.version_core}`);
  require(pkg);
  await tf.setBackend(NATIVE_TF_BACKEND);
  await tf.ready();
  if (tf.getBackend() !== NATIVE_TF_BACKEND) throw new Error(`${pkg} loaded, but TensorFlow.js did not switch to its backend (active: ${tf.getBackend()})`);
  const backend = tf.backend() as { isUsingGpuDevice?: unknown; isGPUPackage?: unknown };
  // Older builds lack the field; then the package name is the best we know.
  const gpu = typeof backend.isUsingGpuDevice === 'boolean' ? backend.isUsingGpuDevice : pkg.endsWith('-gpu');
  if (gpu) return { gpu, device: 'CUDA GPU (libtensorflow)' };
  const note = pkg.endsWith('-gpu') ? ' — libtensorflow found no CUDA device, so this GPU build runs on the CPU' : '';
  return { gpu, device: `CPU (libtensorflow)${note}` };
}

export interface NvidiaGpu {
  name: string;
  memoryBytes: number;
}

/**
 * NVIDIA GPUs as nvidia-smi lists them (it comes with the driver), or [] when there is no driver.
 * tfjs-node-gpu cannot tell its device's memory; this also lets the doctor say "you have an
 * NVIDIA GPU, install tfjs-node-gpu" when the package is missing.
 */
export function listNvidiaGpus(timeoutMs = 3000): Promise<NvidiaGpu[]> {
  if (process.platform !== 'linux' && process.platform !== 'win32') return Promise.resolve([]);
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], { timeout: timeoutMs }, (err, stdout) => {
      if (err) return resolve([]);
      resolve(parseNvidiaSmi(stdout));
    });
  });
}

/** Lines like "NVIDIA H100 80GB HBM3, 81559" (memory in MiB). */
export function parseNvidiaSmi(csv: string): NvidiaGpu[] {
  return csv
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const cut = line.lastIndexOf(',');
      const mib = Number(line.slice(cut + 1).trim());
      return { name: line.slice(0, cut).trim(), memoryBytes: Number.isFinite(mib) ? mib * 1024 * 1024 : 0 };
    })
    .filter((gpu) => gpu.name.length > 0 && gpu.memoryBytes > 0);
}
