/**
 * Reading convolution attributes the way the stock CPU kernels do, restricted to what the fast
 * kernels implement: NHWC float32. Everything else returns null and runs the stock kernel.
 */
import { backend_util, type NamedAttrMap } from '@tensorflow/tfjs-core';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

export function isNhwc(attrs: NamedAttrMap): boolean {
  const format = attrs.dataFormat as string | undefined;
  return format === undefined || format === 'NHWC' || format === 'channelsLast';
}

export function conv2dInfo(
  inShape: readonly number[],
  filterShape: readonly number[],
  attrs: NamedAttrMap,
  options: { depthwise: boolean; dilations?: boolean },
): backend_util.Conv2DInfo | null {
  if (inShape.length !== 4 || filterShape.length !== 4) return null;
  const dilations = options.dilations === false ? 1 : ((attrs.dilations as number | [number, number] | undefined) ?? 1);
  return backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    attrs.strides as number | [number, number],
    dilations,
    attrs.pad as Pad,
    attrs.dimRoundingMode as Rounding,
    options.depthwise,
    'channelsLast',
  );
}
