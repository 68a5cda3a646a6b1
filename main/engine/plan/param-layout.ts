/**
 * Where the parameters live in the arena: every trainable weight in one flat block (`params`), with
 * its gradient at the same offset of `grads` and the optimizer's moments at the same offset of
 * `moment1`/`moment2`, so one optimizer dispatch updates all of them (kernels/optimizer.ts). Weights
 * that do not train (BatchNorm moving statistics, the frozen preprocessing) sit in `state`.
 *
 * In top-N mode the frozen trainable weights are still in `params` (the same layout serves every
 * mode) but first, and the optimizer updates only the tail from `trainFrom` on; gradients and
 * moments exist only for that tail (element i of `grads` belongs to element trainFrom + i of
 * `params`), so a top-N plan holds none for the frozen trunk and an inference plan none at all.
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
  /** the trained tail of `params`, from trainFrom on: what the optimizer updates */
  readonly trained: TensorRange;
  /** gradients and moments of `trained`, element for element */
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
  const frozen = ordered.filter((p) => !trains(p)).reduce((n, p) => n + size(p.shape), 0);
  const trainFrom = ordered.some(trains) ? frozen : total;
  const params = layout.add('params', total);
  const tail = Math.max(1, total - trainFrom);
  const grads = layout.add('grads', tail);
  const moment1 = layout.add('moment1', tail);
  const moment2 = layout.add('moment2', tail);
  const state = layout.add('state', Math.max(1, fixed.reduce((n, p) => n + size(p.shape), 0)));
  const slots = new Map<string, ParamSlot>();
  let offset = 0;
  for (const p of ordered) {
    const n = size(p.shape);
    slots.set(p.name, { param: p, value: subRange(params, p.name, offset, n), grad: offset >= trainFrom ? subRange(grads, `${p.name}:grad`, offset - trainFrom, n) : null });
    offset += n;
  }
  offset = 0;
  for (const p of fixed) {
    const n = size(p.shape);
    slots.set(p.name, { param: p, value: subRange(state, p.name, offset, n), grad: null });
    offset += n;
  }
  const trained = subRange(params, 'trained params', Math.min(trainFrom, total - 1), tail);
  return { slots, params, trained, grads, moment1, moment2, state, trainFrom };
}
