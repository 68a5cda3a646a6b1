/**
 * im2col / col2im for NHWC convolutions: output pixel p = (b·outH + yr)·outW + yc becomes one row of
 * fh·fw·inC values, ordered (kr, kc, ci) like the filter [fh, fw, inC, outC] flattened to
 * [fh·fw·inC, outC], so a convolution is one matrix product per chunk of rows. Padding reads as 0.
 * Chunks keep the column buffer small (cache-sized) instead of materialising all P rows.
 */
import type { backend_util } from '@tensorflow/tfjs-core';

type Conv2DInfo = backend_util.Conv2DInfo;

/** Floats per chunk of column rows: ~256 KiB, a fraction of L2 so the GEMM panels stay cached. */
export const COLUMN_CHUNK_FLOATS = 65536;

export function rowsPerChunk(rowLength: number): number {
  return Math.max(1, Math.floor(COLUMN_CHUNK_FLOATS / rowLength));
}

/** True when the convolution is a plain matrix product over pixels: 1×1, stride 1, no padding. */
export function isPointwise(info: Conv2DInfo): boolean {
  return (
    info.filterHeight === 1 &&
    info.filterWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth
  );
}

/** Fill col[0 .. count·K) with the patches of output pixels p0 .. p0+count-1. */
export function im2col(x: Float32Array, info: Conv2DInfo, p0: number, count: number, col: Float32Array): void {
  const { inHeight, inWidth, inChannels: ch, outHeight, outWidth, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rowLength = fh * fw * ch;
  const perImage = outHeight * outWidth;
  let b = Math.floor(p0 / perImage);
  let yr = Math.floor((p0 % perImage) / outWidth);
  let yc = p0 % outWidth;
  for (let p = 0; p < count; p++) {
    let dst = p * rowLength;
    const imageBase = b * inHeight;
    for (let kr = 0; kr < fh; kr++) {
      const xr = yr * sh - top + kr * dh;
      if (xr < 0 || xr >= inHeight) {
        col.fill(0, dst, dst + fw * ch);
        dst += fw * ch;
        continue;
      }
      const rowBase = (imageBase + xr) * inWidth;
      for (let kc = 0; kc < fw; kc++) {
        const xc = yc * sw - left + kc * dw;
        if (xc < 0 || xc >= inWidth) {
          col.fill(0, dst, dst + ch);
        } else {
          const src = (rowBase + xc) * ch;
          for (let c = 0; c < ch; c++) col[dst + c] = x[src + c];
        }
        dst += ch;
      }
    }
    if (++yc === outWidth) {
      yc = 0;
      if (++yr === outHeight) {
        yr = 0;
        b++;
      }
    }
  }
}

/** The adjoint of im2col: dx[patch element] += col[row, element] for output pixels p0 .. p0+count-1. */
export function col2imAdd(col: Float32Array, info: Conv2DInfo, p0: number, count: number, dx: Float32Array): void {
  const { inHeight, inWidth, inChannels: ch, outHeight, outWidth, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rowLength = fh * fw * ch;
  const perImage = outHeight * outWidth;
  let b = Math.floor(p0 / perImage);
  let yr = Math.floor((p0 % perImage) / outWidth);
  let yc = p0 % outWidth;
  for (let p = 0; p < count; p++) {
    let src = p * rowLength;
    const imageBase = b * inHeight;
    for (let kr = 0; kr < fh; kr++) {
      const xr = yr * sh - top + kr * dh;
      if (xr < 0 || xr >= inHeight) {
        src += fw * ch;
        continue;
      }
      const rowBase = (imageBase + xr) * inWidth;
      for (let kc = 0; kc < fw; kc++) {
        const xc = yc * sw - left + kc * dw;
        if (xc >= 0 && xc < inWidth) {
          const dst = (rowBase + xc) * ch;
          for (let c = 0; c < ch; c++) dx[dst + c] += col[src + c];
        }
        src += ch;
      }
    }
    if (++yc === outWidth) {
      yc = 0;
      if (++yr === outHeight) {
        yr = 0;
        b++;
      }
    }
  }
}
