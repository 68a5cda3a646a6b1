/**
 * The workgroup reduction the channel-parallel kernels share (batch statistics, dgamma/dbeta, the
 * global pool, the depthwise filter gradient, the loss): a workgroup of `tile × lanes` threads, thread
 * `lid = lane · tile + cl` holding a partial value of channel `cl` (consecutive threads read
 * consecutive channels, so the loads coalesce); the reduction combines the `lanes` partials of each
 * channel.
 *
 * Two paths, one WGSL function `<name>_reduce(v, lid)` either way, called in uniform control flow:
 * - fp32, shared memory only: a tree over the lanes, one barrier per halving (log2(lanes) + 1).
 * - subgroups (where the device has them, gpu-device.ts): the partials go through shared memory once,
 *   transposed so that a channel's lanes are consecutive threads, and are combined by
 *   subgroupShuffleXor within runs of `subgroupSize` threads, with no barrier; what is left (lanes ÷
 *   subgroupSize partials, when there are more lanes than that) is added by the owner thread from
 *   shared memory. Two barriers instead of log2(lanes) + 1.
 *   `subgroupSize` is the adapter's smallest subgroup size, and the shuffle relies on one thing WGSL
 *   leaves to the implementation: that an aligned run of that many consecutive invocation indices
 *   lies in one subgroup with lane = index mod size. openEngineDevice checks exactly that on the
 *   device (subgroupShuffleXor(lid, m) == lid ^ m for every mask used) and leaves subgroups off where
 *   it does not hold.
 *
 * The total of a channel is returned on its owner thread only (`owner`, `channel`: WGSL expressions
 * of `lid`); other threads get a partial.
 */

export type ReduceType = 'f32' | 'vec2<f32>' | 'vec3<f32>';

export interface LaneReduceOptions {
  /** WGSL identifier: the shared array and `<name>_reduce` */
  name: string;
  type: ReduceType;
  /** WGSL combining two values, e.g. (a, b) => `${a} + ${b}`, or a call to Welford's merge */
  combine: (a: string, b: string) => string;
  tile: number;
  lanes: number;
  /** 0: the shared-memory path; else the device's checked smallest subgroup size (a power of two) */
  subgroupSize: number;
  /** the function is called more than once per invocation (a loop): each call first waits for the last */
  repeated?: boolean;
}

export interface LaneReduction {
  /** module-scope WGSL: the shared array and the function */
  decls: string;
  /** the directive the module must start with ('' on the shared-memory path) */
  enable: string;
  /** WGSL bool of `lid`: this thread returns a channel's total */
  owner: string;
  /** WGSL u32 of `lid`: which channel of the tile the owner holds */
  channel: string;
}

const pow2 = (v: number) => v >= 1 && (v & (v - 1)) === 0;

export function laneReduction(o: LaneReduceOptions): LaneReduction {
  if (!pow2(o.tile) || !pow2(o.lanes)) throw new Error(`lane reduction ${o.name}: tile ${o.tile} and lanes ${o.lanes} must be powers of two`);
  if (o.subgroupSize !== 0 && (!pow2(o.subgroupSize) || o.subgroupSize < 4)) throw new Error(`lane reduction ${o.name}: subgroup size ${o.subgroupSize} is not a power of two ≥ 4`);
  const workgroup = o.tile * o.lanes;
  const shared = `var<workgroup> ${o.name}: array<${o.type}, ${workgroup}>;`;
  if (o.subgroupSize === 0) {
    // owners read their own slot only, so a repeated call needs no leading barrier
    return {
      enable: '',
      owner: `(lid < ${o.tile}u)`,
      channel: 'lid',
      decls: `${shared}
fn ${o.name}_reduce(v: ${o.type}, lid: u32) -> ${o.type} {
  ${o.name}[lid] = v;
  workgroupBarrier();
  let lane = lid / ${o.tile}u;
  for (var half = ${o.lanes / 2}u; half > 0u; half = half >> 1u) {
    if (lane < half) { ${o.name}[lid] = ${o.combine(`${o.name}[lid]`, `${o.name}[lid + half * ${o.tile}u]`)}; }
    workgroupBarrier();
  }
  return ${o.name}[lid];
}`,
    };
  }
  const run = Math.min(o.lanes, o.subgroupSize);
  const left = o.lanes / run;
  const shuffles: string[] = [];
  for (let m = 1; m < run; m *= 2) shuffles.push(`  acc = ${o.combine('acc', `subgroupShuffleXor(acc, ${m}u)`)};`);
  // with one channel per workgroup the partials are already in lane order: no transpose (and the
  // shared stage below starts with a barrier, so a repeated call is safe without another)
  const transpose =
    o.tile === 1
      ? `  var acc = v;`
      : `  ${o.repeated ? 'workgroupBarrier();\n  ' : ''}${o.name}[lid] = v;
  workgroupBarrier();
  var acc = ${o.name}[(lid % ${o.lanes}u) * ${o.tile}u + lid / ${o.lanes}u];`;
  const rest =
    left === 1
      ? ''
      : `
  workgroupBarrier();
  ${o.name}[lid] = acc;
  workgroupBarrier();
  if (lid % ${o.lanes}u == 0u) {
    for (var j = 1u; j < ${left}u; j++) { acc = ${o.combine('acc', `${o.name}[lid + j * ${run}u]`)}; }
  }`;
  return {
    enable: 'enable subgroups;\n',
    owner: `(lid % ${o.lanes}u == 0u)`,
    channel: `(lid / ${o.lanes}u)`,
    decls: `${shared}
fn ${o.name}_reduce(v: ${o.type}, lid: u32) -> ${o.type} {
${transpose}
${shuffles.join('\n')}${rest}
  return acc;
}`,
  };
}
