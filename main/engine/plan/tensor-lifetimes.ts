/**
 * Arena ranges shared by tensors whose lifetimes do not overlap within a step. A plan is recorded
 * twice (step-plan.ts): the first recording hands out stand-in ranges that note when they are used,
 * and the second lays each of them at an offset of one shared block, chosen so that tensors alive
 * at the same time never overlap in memory.
 *
 * Time is counted in slots: the recorder starts a new one for each node of the forward, the loss,
 * each node of the backward and the optimizer (forward-plan.ts, backward-plan.ts). A tensor lives
 * from the first slot to the last in which a kernel was handed its offset (a kernel reads `at` of
 * each tensor it touches while it is recorded; subRange reads its parent's). Two tensors used in
 * the same slot always get separate memory, so a node's kernels never see one of their tensors
 * overwritten by another, whatever order they read and write them in. Dispatches of one compute pass
 * run in order, so a tensor first used in a later slot may take the memory of one last used earlier.
 *
 * That is right only for tensors whose first use writes them (values, gradients whose first
 * contribution writes, BatchNorm statistics, pre-activations, temporaries): anything read before
 * the step writes it, kept between steps or read by the host (parameters, optimizer state, pixels,
 * labels, metrics, logits) is laid out on its own (StepAllocator.fixed, step-layout.ts). A stand-in
 * read outside every slot counts as alive for the whole step.
 *
 * Placement is greedy by size (largest first, each at the lowest offset clear of the tensors it
 * lives alongside), the heuristic static planners of inference runtimes use; a few thousand tensors
 * place in milliseconds.
 */
import type { TensorRange } from '../arena';

/** Tensors start on 16-byte boundaries (vec4 loads), as in ArenaLayout. */
const ALIGN = 4;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

interface Life {
  readonly name: string;
  readonly length: number;
  first: number;
  last: number;
}

const STAND_IN_SPACE = 2 ** 30;

/** Alive from the first slot to the end: what a read outside the recording means. */
const ALWAYS = Number.MAX_SAFE_INTEGER;

/** The first recording: stand-in ranges that note the slots they are used in. */
export class LifetimeRecorder {
  private readonly lives: Life[] = [];
  private slot = -1;
  private recording = false;
  /**
   * stand-in offsets: aligned, distinct until they wrap at 2^30 elements (the recording compiles
   * nothing; kernels only need a valid u32 offset, and no kernel compares offsets)
   */
  private nextAt = 0;

  /** A transient tensor (the allocator StepAllocator.transient of the first layout). */
  readonly transient = (name: string, length: number): TensorRange => {
    const life: Life = { name, length, first: ALWAYS, last: -1 };
    this.lives.push(life);
    const at = this.nextAt;
    this.nextAt = align(at + length) % STAND_IN_SPACE;
    const touch = () => {
      const now = this.recording ? this.slot : -1;
      if (now < 0) {
        life.first = 0;
        life.last = ALWAYS;
      } else {
        life.first = Math.min(life.first, now);
        life.last = Math.max(life.last, now);
      }
    };
    return {
      name,
      length,
      get at() {
        touch();
        return at;
      },
    };
  };

  /** The next slot begins (a node, the loss, the optimizer). */
  readonly nextSlot = (): void => {
    this.recording = true;
    this.slot++;
  };

  /** The recording is over: later reads of a stand-in count as the whole step. */
  finish(): TensorPlacement {
    this.recording = false;
    return place(this.lives);
  }
}

/** Where each transient tensor lies in the shared block, in the order they were asked for. */
export interface TensorPlacement {
  /** elements of the shared block */
  readonly elements: number;
  /** elements the tensors would take each in its own range (for reports) */
  readonly unsharedElements: number;
  /** the most elements alive in any one slot: no placement needs less than this */
  readonly peakElements: number;
  readonly offsets: readonly number[];
  readonly lives: readonly { readonly name: string; readonly length: number; readonly first: number; readonly last: number }[];
}

function place(lives: readonly Life[]): TensorPlacement {
  const offsets = new Array<number>(lives.length).fill(0);
  // a tensor never used lives in a slot of its own before the step: it shares with everything
  // and still lies inside the block, should anything ask for it
  const spans = lives.map((l) => (l.last < 0 ? { first: -1, last: -1 } : { first: l.first, last: l.last }));
  const order = lives.map((_, i) => i);
  order.sort((i, j) => lives[j].length - lives[i].length || spans[i].first - spans[j].first || i - j);
  const placed: number[] = [];
  let elements = 0;
  for (const i of order) {
    const life = lives[i];
    const alongside = placed.filter((j) => spans[j].first <= spans[i].last && spans[i].first <= spans[j].last).sort((j, k) => offsets[j] - offsets[k]);
    let at = 0;
    for (const j of alongside) {
      if (at + life.length <= offsets[j]) break;
      at = Math.max(at, align(offsets[j] + lives[j].length));
    }
    offsets[i] = at;
    placed.push(i);
    elements = Math.max(elements, at + life.length);
  }
  const unsharedElements = lives.reduce((n, l) => n + align(l.length), 0);
  return { elements: align(elements), unsharedElements, peakElements: peakAlive(spans, lives), offsets, lives: lives.map((l, i) => ({ name: l.name, length: l.length, ...spans[i] })) };
}

/** The largest sum of lengths alive at once: a sweep over the slots where lives begin and end. */
function peakAlive(spans: readonly { first: number; last: number }[], lives: readonly Life[]): number {
  const events: [number, number][] = [];
  spans.forEach((s, i) => events.push([s.first, align(lives[i].length)], [s.last + 1, -align(lives[i].length)]));
  // at one slot, lives ending before it leave before those beginning at it arrive
  events.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let alive = 0;
  let peak = 0;
  for (const [, delta] of events) {
    alive += delta;
    peak = Math.max(peak, alive);
  }
  return peak;
}

/**
 * The second layout's transient allocator: the k-th tensor asked for is the k-th of the first
 * recording, at its offset inside `block` (the layout must ask for the same tensors in the same
 * order; it is a pure function of the graph, so a mismatch is a bug and throws).
 */
export function placedAllocator(placement: TensorPlacement, block: TensorRange | null): (name: string, length: number) => TensorRange {
  let k = 0;
  return (name, length) => {
    const life = placement.lives[k];
    if (!life || life.name !== name || life.length !== length) throw new Error(`engine plan: the second layout asked for ${name} (${length}) where the first had ${life ? `${life.name} (${life.length})` : 'nothing'}`);
    const at = placement.offsets[k++];
    if (!block) throw new Error(`engine plan: ${name} has no shared block to lie in`);
    return block.half ? { name, length, at: block.at + at, half: true } : { name, length, at: block.at + at };
  };
}
