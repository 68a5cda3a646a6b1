/**
 * Intra-op threads for ONNX Runtime's CPU provider: one per physical core. Hyper-threads share a
 * core's vector units, so a second thread per core adds contention, not speed, for convolution
 * kernels (ONNX Runtime's own default is the physical cores too, when it can count them).
 */
import fs from 'node:fs';
import os from 'node:os';

let counted: number | null = null;

/** Physical cores of this machine (Linux: distinct core ids per package; elsewhere the logical count). */
export function physicalCores(): number {
  counted ??= countPhysicalCores();
  return counted;
}

function countPhysicalCores(): number {
  const logical = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  if (process.platform !== 'linux') return logical;
  try {
    const cores = new Set<string>();
    for (const cpu of fs.readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d))) {
      const topology = `/sys/devices/system/cpu/${cpu}/topology`;
      const core = fs.readFileSync(`${topology}/core_id`, 'utf8').trim();
      const pkg = fs.readFileSync(`${topology}/physical_package_id`, 'utf8').trim();
      cores.add(`${pkg}:${core}`);
    }
    // a container limited to fewer CPUs than the machine has must not oversubscribe them
    return cores.size > 0 ? Math.min(cores.size, logical) : logical;
  } catch {
    return logical;
  }
}
