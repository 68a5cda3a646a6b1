/**
 * What a plan decides about the graph before it lays anything out: which layers train, which
 * BatchNorms run frozen, which nodes are identities in this mode (dropout at rate 0, in inference,
 * or in a frozen block), which swish is fused into the BatchNorm before it, which stochastic-depth
 * branch is fused into its residual add, which SE scale is fused into the prologue of the 1×1
 * projection after it (its product X·gate is never stored: the projection multiplies the gate in as
 * it loads X, forward and in its weight gradient), and which values need a gradient (those that
 * depend on a trained parameter: in top mode nothing below the first trained layer).
 */
import type { GraphNode, NetworkGraph } from './network-graph';

export interface AnalysisOptions {
  /** train: training-mode forward (+ backward); infer: inference forward only */
  readonly phase: 'train' | 'infer';
  /** whether a Keras layer trains (top mode: the last blocks and the head) */
  readonly layerTrains: (layer: string) => boolean;
  /** every BatchNorm in inference mode (top mode always, full mode with freezeBatchNorm) */
  readonly freezeBatchNorm: boolean;
  /**
   * infer phase: every BatchNorm normalises by the batch's statistics (and updates its moving
   * ones) while the rest is in inference mode (dropout the identity, nothing trains): the forward
   * that Precise BN averages statistics over
   */
  readonly batchStatistics?: boolean;
}

export interface GraphAnalysis {
  readonly graph: NetworkGraph;
  readonly phase: 'train' | 'infer';
  /** node index → its parameters are updated */
  readonly trains: readonly boolean[];
  /** BatchNorm node → normalises with its moving statistics */
  readonly frozenBn: readonly boolean[];
  /** node → its output is its input (no dispatch) */
  readonly identity: readonly boolean[];
  /** BatchNorm node → the swish after it is computed in its apply (the swish node records nothing) */
  readonly fusedSwish: readonly boolean[];
  /** swish node → done by the BatchNorm before it */
  readonly fusedIntoBn: readonly boolean[];
  /** add node → index of the stochastic-depth node on its branch (fused into the add), or −1 */
  readonly dropIntoAdd: readonly number[];
  /** dropBranch node → done by the add after it */
  readonly fusedIntoAdd: readonly boolean[];
  /** pointwise conv node → index of the SE multiply whose product it reads through its prologue, or −1 */
  readonly scaleIntoConv: readonly number[];
  /** multiply node → its forward is done by the conv after it (its output has no tensor; its backward still runs) */
  readonly fusedIntoConv: readonly boolean[];
  /** value → the value whose memory it is (identities pass their input through) */
  readonly rep: (value: number) => number;
  /** value (representative) → the nodes that read it */
  readonly consumers: ReadonlyMap<number, readonly number[]>;
  /** value (representative) → a gradient is needed */
  readonly needsGrad: (value: number) => boolean;
  /** whether a parameter is updated by the optimizer in this plan */
  readonly paramTrains: (name: string) => boolean;
}

export function analyzeGraph(graph: NetworkGraph, o: AnalysisOptions): GraphAnalysis {
  const { nodes } = graph;
  const n = nodes.length;
  const training = o.phase === 'train';
  const layerTrains = (name: string) => training && o.layerTrains(name);
  const frozenBn = nodes.map((node) => node.kind === 'batchNorm' && (training ? o.freezeBatchNorm || !layerTrains(node.name) : !o.batchStatistics));
  const paramTrains = (name: string) => {
    const p = graph.params.get(name);
    if (!p || !p.trainable || !layerTrains(p.layer)) return false;
    const owner = nodes.find((node) => node.name === p.layer);
    return !(owner && frozenBn[owner.index]);
  };
  const trains = nodes.map((node) => node.params.some(paramTrains));
  // Keras: dropout is the identity in inference; frozen blocks run in inference mode (model-setup.ts)
  const identity = nodes.map((node) => (node.kind === 'dropout' || node.kind === 'dropBranch') && (!layerTrains(node.name) || node.rate === 0));

  const repOf = new Int32Array(graph.values.length).map((_, i) => i);
  for (const node of nodes) if (identity[node.index]) repOf[node.output] = repOf[node.inputs[0]];
  const rep = (v: number) => repOf[v];

  const rawConsumers = new Map<number, number[]>();
  for (const node of nodes) {
    if (identity[node.index]) continue;
    for (const v of node.inputs) {
      const r = rep(v);
      if (!rawConsumers.has(r)) rawConsumers.set(r, []);
      rawConsumers.get(r)!.push(node.index);
    }
  }
  const consumersOf = (v: number) => rawConsumers.get(rep(v)) ?? [];

  const fusedSwish = new Array<boolean>(n).fill(false);
  const fusedIntoBn = new Array<boolean>(n).fill(false);
  for (const node of nodes) {
    if (node.kind !== 'batchNorm') continue;
    const users = consumersOf(node.output);
    const next = users.length === 1 ? nodes[users[0]] : null;
    if (next && next.kind === 'swish') {
      fusedSwish[node.index] = true;
      fusedIntoBn[next.index] = true;
    }
  }

  const dropIntoAdd = new Array<number>(n).fill(-1);
  const fusedIntoAdd = new Array<boolean>(n).fill(false);
  for (const node of nodes) {
    if (node.kind !== 'dropBranch' || identity[node.index]) continue;
    const users = consumersOf(node.output);
    const add = users.length === 1 ? nodes[users[0]] : null;
    if (add && add.kind === 'add' && rep(add.inputs[0]) === node.output) {
      dropIntoAdd[add.index] = node.index;
      fusedIntoAdd[node.index] = true;
    }
  }

  // the SE scale x·gate (gate [1, 1, C] per image) read only by a 1×1 stride-1 convolution
  const scaleIntoConv = new Array<number>(n).fill(-1);
  const fusedIntoConv = new Array<boolean>(n).fill(false);
  for (const node of nodes) {
    if (node.kind !== 'multiply') continue;
    const [gh, gw] = graph.values[node.inputs[1]].shape;
    const users = consumersOf(node.output);
    const next = users.length === 1 ? nodes[users[0]] : null;
    if (gh === 1 && gw === 1 && next && next.kind === 'conv' && next.layer.kernel === 1 && next.layer.stride === 1) {
      scaleIntoConv[next.index] = node.index;
      fusedIntoConv[node.index] = true;
    }
  }

  const grad = new Array<boolean>(graph.values.length).fill(false);
  if (training) {
    for (const node of nodes) {
      const needs = trains[node.index] || node.inputs.some((v) => grad[rep(v)]);
      if (needs) grad[rep(node.output)] = true;
    }
  }
  return {
    graph,
    phase: o.phase,
    trains,
    frozenBn,
    identity,
    fusedSwish,
    fusedIntoBn,
    dropIntoAdd,
    fusedIntoAdd,
    scaleIntoConv,
    fusedIntoConv,
    rep,
    consumers: rawConsumers,
    needsGrad: (v) => grad[rep(v)],
    paramTrains,
  };
}

/**
 * Nodes that record nothing of their own (identities and the halves of fused pairs). An SE multiply
 * fused into its projection is not one of them: its forward is skipped (recordForward), its backward runs.
 */
export function recordsNothing(a: GraphAnalysis, node: GraphNode): boolean {
  return a.identity[node.index] || a.fusedIntoBn[node.index] || a.fusedIntoAdd[node.index];
}
