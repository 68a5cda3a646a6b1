/**
 * Single-threaded float32 matrix product for the fast CPU kernels, in plain JavaScript:
 *
 *   C(i, j) = [C(i, j) +] Σ_k A(i, k) · B(k, j)      i < m, j < n, k < depth
 *
 * A and B are read through arbitrary strides, so one routine serves X·W (convolution forward),
 * Xᵀ·dY (filter gradient) and dY·Wᵀ (input gradient) without copying or transposing anything:
 *   A(i, k) = a[aOff + i·aRow + k·aCol],  B(k, j) = b[bOff + k·bRow + j·bCol],
 *   C(i, j) = c[cOff + i·cRow + j].
 *
 * Why it is fast in V8: a 3×4 block of C lives in 12 local doubles while the loop walks k, so each
 * step loads 7 values for 12 multiply-adds (the naive loop loads 2 and stores 1 per multiply-add).
 * 3×4 measured best of 2×4, 3×4 and 4×4 here: 4×4 needs more doubles than x64 has registers.
 * Columns are done in panels of PANEL_COLUMNS and the depth in slices of DEPTH_SLICE so that the
 * parts of A and B a panel re-reads stay in the L2 cache. Sums within a slice are exact-ish
 * doubles; across slices they are rounded to float32 once per slice.
 */
const PANEL_COLUMNS = 64;
const DEPTH_SLICE = 256;

export function gemm(
  m: number,
  n: number,
  depth: number,
  a: Float32Array,
  aOff: number,
  aRow: number,
  aCol: number,
  b: Float32Array,
  bOff: number,
  bRow: number,
  bCol: number,
  c: Float32Array,
  cOff: number,
  cRow: number,
  accumulate: boolean,
): void {
  if (m <= 0 || n <= 0) return;
  if (depth <= 0) {
    if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, cOff + i * cRow, cOff + i * cRow + n);
    return;
  }
  for (let k0 = 0; k0 < depth; k0 += DEPTH_SLICE) {
    const kn = Math.min(DEPTH_SLICE, depth - k0);
    const acc = accumulate || k0 > 0;
    const aK = aOff + k0 * aCol;
    const bK = bOff + k0 * bRow;
    for (let j0 = 0; j0 < n; j0 += PANEL_COLUMNS) {
      const jn = Math.min(PANEL_COLUMNS, n - j0);
      panel(m, jn, kn, a, aK, aRow, aCol, b, bK + j0 * bCol, bRow, bCol, c, cOff + j0, cRow, acc);
    }
  }
}

function panel(
  m: number,
  n: number,
  depth: number,
  a: Float32Array,
  aOff: number,
  aRow: number,
  aCol: number,
  b: Float32Array,
  bOff: number,
  bRow: number,
  bCol: number,
  c: Float32Array,
  cOff: number,
  cRow: number,
  acc: boolean,
): void {
  const m3 = m - (m % 3);
  const n4 = n - (n % 4);
  const a1 = aRow;
  const a2 = 2 * aRow;
  const b1 = bCol;
  const b2 = 2 * bCol;
  const b3 = 3 * bCol;
  for (let i = 0; i < m3; i += 3) {
    const aI = aOff + i * aRow;
    for (let j = 0; j < n4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let pa = aI;
      let pb = bOff + j * bCol;
      for (let k = 0; k < depth; k++) {
        const x0 = a[pa], x1 = a[pa + a1], x2 = a[pa + a2];
        const y0 = b[pb], y1 = b[pb + b1], y2 = b[pb + b2], y3 = b[pb + b3];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        pa += aCol;
        pb += bRow;
      }
      let o = cOff + i * cRow + j;
      if (acc) {
        c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03; o += cRow;
        c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13; o += cRow;
        c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23;
      } else {
        c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += cRow;
        c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += cRow;
        c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23;
      }
    }
  }
  // Rows left over after the 3-row blocks: one row against 4 columns at a time.
  for (let i = m3; i < m; i++) {
    const aI = aOff + i * aRow;
    for (let j = 0; j < n4; j += 4) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      let pa = aI;
      let pb = bOff + j * bCol;
      for (let k = 0; k < depth; k++) {
        const x = a[pa];
        c0 += x * b[pb]; c1 += x * b[pb + b1]; c2 += x * b[pb + b2]; c3 += x * b[pb + b3];
        pa += aCol;
        pb += bRow;
      }
      const o = cOff + i * cRow + j;
      if (acc) {
        c[o] += c0; c[o + 1] += c1; c[o + 2] += c2; c[o + 3] += c3;
      } else {
        c[o] = c0; c[o + 1] = c1; c[o + 2] = c2; c[o + 3] = c3;
      }
    }
  }
  // Columns left over after the 4-column blocks (n not a multiple of 4): plain dot products.
  if (n4 < n) {
    for (let i = 0; i < m; i++) {
      for (let j = n4; j < n; j++) {
        let s = 0;
        let pa = aOff + i * aRow;
        let pb = bOff + j * bCol;
        for (let k = 0; k < depth; k++) {
          s += a[pa] * b[pb];
          pa += aCol;
          pb += bRow;
        }
        const o = cOff + i * cRow + j;
        c[o] = acc ? c[o] + s : s;
      }
    }
  }
}
