/**
 * What to install to get a backend working (or a real GPU under WebGPU), in words, per platform.
 * The versions are the ones Effitune pins: one TensorFlow.js version in the whole engine.
 */
import * as tf from '@tensorflow/tfjs-core';

const LIBTENSORFLOW_DOWNLOAD = 'its installer downloads libtensorflow, so it needs internet while installing';

export function tfjsNodeGpuHint(platform: NodeJS.Platform): string | null {
  if (platform !== 'linux' && platform !== 'win32') return null;
  return `npm install @tensorflow/tfjs-node-gpu@${tf.version_core} (an NVIDIA GPU with CUDA 11.2 and cuDNN 8.1; ${LIBTENSORFLOW_DOWNLOAD})`;
}

export function tfjsNodeHint(): string {
  return `npm install @tensorflow/tfjs-node@${tf.version_core} (${LIBTENSORFLOW_DOWNLOAD})`;
}

/** When a native package is installed but does not load. */
export function nativeRepairHint(pkg: string): string {
  const cuda = pkg.endsWith('-gpu') ? '; the CUDA 11.2 and cuDNN 8.1 libraries must be on the library path (LD_LIBRARY_PATH on Linux, PATH on Windows)' : '';
  return `npm rebuild ${pkg}, or reinstall it as npm install ${pkg}@${tf.version_core}${cuda}`;
}

export function webgpuPackageHint(): string {
  return 'npm install webgpu (Dawn, the WebGPU implementation of Chromium)';
}

/** A GPU driver Dawn can use: Vulkan on Linux, Metal on macOS, Direct3D 12 on Windows. */
export function gpuDriverHint(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'a Mac with Metal support (macOS 11 or later)';
  if (platform === 'win32') return 'a GPU driver with Direct3D 12 support (current NVIDIA, AMD or Intel drivers)';
  return (
    'a Vulkan driver for your GPU and the Vulkan loader (Debian/Ubuntu: apt install libvulkan1 mesa-vulkan-drivers, ' +
    "or the NVIDIA driver); without a GPU, Chromium's SwiftShader (apt install chromium) gives a slow software adapter for testing"
  );
}
