import { describe, expect, it } from 'vitest';
import { checkSubgroupLayout, openEngineDevice } from '../../../main/engine/gpu-device';
import { deviceOrSkip } from '../../fixtures/engine-gpu';

describe('engine device: subgroups are used only where their layout is checked (WebGPU; SwiftShader without a GPU)', () => {
  it('opens with the checked subgroup size where the adapter has subgroups; fp32Only leaves them off and says so', async (context) => {
    const gpu = await deviceOrSkip(context);
    if (!gpu) return;
    if (gpu.adapter.features?.includes('subgroups')) {
      // SwiftShader's subgroups hold 4 invocations in order: the reductions may use them
      expect(gpu.subgroupsOff).toBeNull();
      expect(gpu.subgroupSize).toBeGreaterThanOrEqual(4);
      expect(gpu.features.subgroups).toBe(true);
    } else {
      expect(gpu.subgroupSize).toBe(0);
      expect(gpu.subgroupsOff).toMatch(/no subgroups/);
    }
    const plain = await openEngineDevice({ fp32Only: true });
    expect(plain.subgroupSize).toBe(0);
    expect(plain.features.subgroups).toBe(false);
    expect(plain.subgroupsOff).toBe('fp32 path asked for');
    plain.release();
  });

  it('the check refuses a size larger than the device’s subgroups (shuffles past a subgroup do not read lid ^ mask)', async (context) => {
    const gpu = await deviceOrSkip(context);
    if (!gpu) return;
    if (gpu.subgroupSize === 0) return context.skip(`no subgroups on this device: ${gpu.subgroupsOff}`);
    expect(await checkSubgroupLayout(gpu.device, gpu.subgroupSize)).toBeNull();
    // no GPU has subgroups of 128 (SwiftShader's are 4): told to rely on 128, the check finds smaller
    // subgroups and shuffles that do not read lid ^ mask
    expect(await checkSubgroupLayout(gpu.device, 128)).toMatch(/^subgroups off: .*smaller than the adapter's smallest \(128\).*another invocation/);
    expect(await checkSubgroupLayout(gpu.device, 6)).toMatch(/not a power of two/);
    expect(gpu.error()).toBeNull();
  });
});
