/**
 * Chan et al.'s merge of two (count, mean, M2) summaries as WGSL, `merge(a, b)` over vec3<f32>:
 * the BatchNorm statistics' reductions (batchnorm.ts) and the GEMM's statistics epilogue (gemm.ts)
 * combine partial summaries with it, which stays exact where sums of squares would cancel.
 */
export const WELFORD_MERGE_WGSL = `fn merge(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
  let n = a.x + b.x;
  if (n == 0.0) { return a; }
  let d = b.y - a.y;
  return vec3<f32>(n, a.y + d * (b.x / n), a.z + b.z + d * d * (a.x * b.x / n));
}`;
