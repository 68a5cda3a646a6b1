/**
 * Where the parameters live in the arena: every trainable weight in one flat block (`params`), with
 * its gradient at the same offset of `grads` and the optimizer's moments at the same offset of
 * `moment1`/`moment2`, so one optimizer dispatch updates all of them (kernels/optimizer.ts). Weights
 * that do not train (BatchNorm moving statistics, the frozen preprocessing) sit in `state`.
 *
 * In top-N mode the frozen trainable weights are still in `params` (the same layout serves every
 * mode) but first, and the optimizer updates only the tail from `trainFrom` on.
 */
import { subRange, type ArenaLayout, type TensorRange } from '../arena';
import type { NetworkGraph, Param } from './network-graph';

export interface ParamSlot {
  readonly param: Param;
  readonly value: TensorRange;
  /** null for weights outside the flat trainable block */
  readonly grad: TensorRange | null;
}

export interface ParamLayout {
  readonly slots: ReadonlyMap<string, ParamSlot>;
  readonly params: TensorRange;
  readonly grads: TensorRange;
  readonly moment1: TensorRange;
  readonly moment2: TensorRange;
  readonly state: TensorRange;
  /** element offset in `params` from which the optimizer updates (0: everything trains) */
  readonly trainFrom: number;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** `trains(param)`: whether the optimizer updates it in this mode (frozen layers of top-N: false). */
export function layoutParams(layout: ArenaLayout, graph: NetworkGraph, trains: (param: Param) => boolean): ParamLayout {
  const all = [...graph.params.values()];
  const trainable = all.filter((p) => p.trainable);
  // frozen trainable weights first, so the updated ones are one contiguous tail
  const ordered = [...trainable.filter((p) => !trains(p)), ...trainable.filter((p) => trains(p))];
  const fixed = all.filter((p) => !p.trainable);
  const total = Math.max(1, ordered.reduce((n, p) => n + size(p.shape), 0));
  const params = layout.add('params', total);
  const grads = layout.add('grads', total);
  const moment1 = layout.add('moment1', total);
  const moment2 = layout.add('moment2', total);
  const state = layout.add('state', Math.max(1, fixed.reduce((n, p) => n + size(p.shape), 0)));
  const slots = new Map<string, ParamSlot>();
  let offset = 0;
  let trainFrom = total;
  for (const p of ordered) {
    const n = size(p.shape);
    if (trains(p) && trainFrom === total) trainFrom = offset;
    slots.set(p.name, { param: p, value: subRange(params, p.name, offset, n), grad: subRange(grads, `${p.name}:grad`, offset, n) });
    offset += n;
  }
  offset = 0;
  for (const p of fixed) {
    const n = size(p.shape);
    slots.set(p.name, { param: p, value: subRange(state, p.name, offset, n), grad: null });
    offset += n;
  }
  return { slots, params, grads, moment1, moment2, state, trainFrom };
}
