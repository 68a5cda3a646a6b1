/**
 * ONNX Runtime's execution providers as Effitune uses them: the order (best first), which platform
 * each needs, what to install when one is missing, and the session options each gets. What loads on
 * this machine is found by probing (provider-probe.ts); this file holds what is known without it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ProviderName } from '../contract/calls-inference';

const require = createRequire(import.meta.url);

/** Best first: a vendor runtime (CUDA, DirectML, CoreML), then WebGPU on any GPU, then the CPU. */
export const PROVIDER_ORDER: readonly ProviderName[] = ProviderName.options;

/** The platform a provider exists on, or null when any platform may have it. */
const PLATFORM: Partial<Record<ProviderName, NodeJS.Platform>> = { dml: 'win32', coreml: 'darwin' };

export const PROVIDER_LABEL: Record<ProviderName, string> = {
  cuda: 'CUDA (NVIDIA GPUs)',
  dml: 'DirectML (any Direct3D 12 GPU on Windows)',
  coreml: 'CoreML (Apple Neural Engine and GPU)',
  webgpu: 'WebGPU (any Vulkan, Metal or Direct3D 12 GPU)',
  cpu: 'CPU',
};

/** Why a provider cannot exist on this platform, or null. */
export function platformMismatch(name: ProviderName, platform: NodeJS.Platform = process.platform): string | null {
  const needed = PLATFORM[name];
  if (!needed || needed === platform) return null;
  const names: Record<string, string> = { win32: 'Windows', darwin: 'macOS', linux: 'Linux' };
  return `${PROVIDER_LABEL[name]} exists only on ${names[needed]}; this is ${names[platform] ?? platform}`;
}

/** What to install to make a provider work, in words, or null when nothing helps. */
export function installHint(name: ProviderName, platform: NodeJS.Platform = process.platform): string | null {
  switch (name) {
    case 'cuda':
      return platform === 'linux' || platform === 'win32'
        ? "an NVIDIA GPU with CUDA 12 and cuDNN 9, and onnxruntime-node's CUDA libraries: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node (downloads them, so it needs internet)"
        : null;
    case 'webgpu':
      if (platform === 'darwin') return 'a Mac with Metal support (macOS 11 or later)';
      if (platform === 'win32') return 'a GPU driver with Direct3D 12 support (current NVIDIA, AMD or Intel drivers)';
      return 'a Vulkan driver for your GPU and the Vulkan loader (Debian/Ubuntu: apt install libvulkan1 mesa-vulkan-drivers, or the NVIDIA driver)';
    default:
      return null;
  }
}

/** The folder of onnxruntime-node's native binaries for this platform, or null when it is not installed. */
export function onnxRuntimeBinaryDir(): string | null {
  try {
    const root = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const dir = path.join(root, 'bin', 'napi-v6', process.platform, process.arch);
    return fs.existsSync(dir) ? dir : null;
  } catch {
    return null;
  }
}

/** Whether onnxruntime-node's CUDA provider libraries are present (they are a separate download). */
export function cudaLibrariesPresent(): boolean {
  const dir = onnxRuntimeBinaryDir();
  if (!dir) return false;
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return fs.existsSync(path.join(dir, lib));
}

/** onnxruntime-node's version, or null when the package is missing. */
export function onnxRuntimeVersion(): string | null {
  try {
    return (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return null;
  }
}
