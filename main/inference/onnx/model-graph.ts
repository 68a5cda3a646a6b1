/**
 * The call graph of a tf.layers model as a topologically ordered list of layer calls, each with
 * its input and output symbolic tensors, and who consumes every tensor. Walking back from the
 * model's outputs (tensor → sourceLayer.inboundNodes[nodeIndex]) follows exactly the calls this
 * model makes, so shared layers, Sequential models and layers reused by other models all work.
 */
import type * as tfl from '@tensorflow/tfjs-layers';

type SymbolicTensor = tfl.SymbolicTensor;
type Layer = ReturnType<tfl.LayersModel['getLayer']>;

export interface LayerCall {
  /** unique per call: layer name, plus the call index when a layer is called more than once */
  readonly key: string;
  readonly layer: Layer;
  readonly className: string;
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
}

export interface ModelGraph {
  readonly calls: readonly LayerCall[];
  /** tensor id → the calls reading it; the model's outputs are additionally marked in `outputIds` */
  readonly consumers: ReadonlyMap<number, readonly LayerCall[]>;
  readonly outputIds: ReadonlySet<number>;
}

export function readModelGraph(model: tfl.LayersModel): ModelGraph {
  const calls: LayerCall[] = [];
  const visited = new Set<string>();

  const visit = (tensor: SymbolicTensor): void => {
    const layer = tensor.sourceLayer;
    const key = layer.inboundNodes.length > 1 ? `${layer.name}_call${tensor.nodeIndex}` : layer.name;
    if (visited.has(key)) return;
    visited.add(key);
    const node = layer.inboundNodes[tensor.nodeIndex];
    const className = layer.getClassName();
    // an InputLayer's node lists its own output as its input
    const inputs = className === 'InputLayer' ? [] : node.inputTensors;
    for (const input of inputs) visit(input);
    calls.push({ key, layer, className, inputs, outputs: node.outputTensors });
  };
  // recursion depth is the model's depth in calls: about 800 for EfficientNet-B7, far below the stack limit
  for (const output of model.outputs) visit(output);

  const consumers = new Map<number, LayerCall[]>();
  for (const call of calls) {
    for (const input of call.inputs) {
      const list = consumers.get(input.id) ?? [];
      list.push(call);
      consumers.set(input.id, list);
    }
  }
  return { calls, consumers, outputIds: new Set(model.outputs.map((t) => t.id)) };
}

/** The one call that reads `tensor`, when it is read exactly once and is not a model output. */
export function soleConsumer(graph: ModelGraph, tensor: SymbolicTensor): LayerCall | null {
  const list = graph.consumers.get(tensor.id) ?? [];
  return list.length === 1 && !graph.outputIds.has(tensor.id) ? list[0] : null;
}
