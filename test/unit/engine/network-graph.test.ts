import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../../main/backend/tfjs-backend';
import { buildNetworkGraph, samePadding } from '../../../main/engine/plan/network-graph';
import { buildEfficientNet } from '../../../main/model/builder';
import { getVariant } from '../../../main/model/variants';

describe('the engine graph of a variant', () => {
  it.each(['phi=-6', 'b0', 'v2-b0', 'v2-s'])('%s: the same parameters (Keras names, shapes, trainable) as the tf.layers model, and the logits shape', async (id) => {
    await useBackend('cpu');
    const graph = buildNetworkGraph(getVariant(id), { classes: 5, resolution: 64 });
    const model = buildEfficientNet(id, { classes: 5, resolution: 64 }) as tfl.LayersModel;
    try {
      // tf.layers lists trainable weights first: compare by name
      const byName = (rows: [string, number[], boolean][]) => rows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const fromModel = byName(model.weights.map((w) => [w.originalName, [...w.shape] as number[], w.trainable]));
      const fromGraph = byName([...graph.params.values()].map((p) => [p.name, [...p.shape], p.trainable]));
      expect(fromGraph).toEqual(fromModel);
      expect(graph.values[graph.output].shape).toEqual([1, 1, 5]);
      // every value the model computes exists with the same shape: the last block's output and the head
      const top = graph.nodes.find((n) => n.name === 'top_conv')!;
      const topShape = model.getLayer('top_conv').outputShape as number[];
      expect(graph.values[top.output].shape).toEqual(topShape.slice(1));
    } finally {
      model.dispose();
    }
  });

  it("TensorFlow SAME padding: the extra pixel goes after", () => {
    expect(samePadding(9, 3, 2)).toEqual({ out: 5, before: 1 });
    expect(samePadding(8, 3, 2)).toEqual({ out: 4, before: 0 });
    expect(samePadding(8, 5, 2)).toEqual({ out: 4, before: 1 });
    expect(samePadding(7, 5, 1)).toEqual({ out: 7, before: 2 });
  });

  it('refuses what it does not plan, in words', () => {
    expect(() => buildNetworkGraph(getVariant('phi=-6'), { padding: 'symmetric' })).toThrow(/SAME padding only/);
    expect(() => buildNetworkGraph(getVariant('phi=-6'), { includeTop: false })).toThrow(/includeTop/);
  });
});
