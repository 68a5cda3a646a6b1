/**
 * Matrix products for the engine: a tiled GEMM C[M,N] = A[M,K] · B[K,N] over row-major tensors of
 * the arena, with A or B optionally stored transposed, a fused epilogue (+ bias[N], swish/sigmoid,
 * keep the pre-activation, accumulate into C) and an optional prologue scale on A (the SE
 * excitation multiplied into the projection's input). It serves the 1×1 convolutions (forward
 * X·W, input gradient dY·Wᵀ, weight gradient Xᵀ·dY), the dense head and SE's small FCs, and, through
 * `implicitGemm`, the k×k convolutions of conv.ts, whose operands are gathered on the fly.
 *
 * One workgroup computes a tm×tn tile of C with 16×16 threads, each thread a (tm/16)×(tn/16)
 * block of outputs in registers (small arrays walked by loops of constant bounds, which the shader
 * compilers unroll); A and B stream through workgroup memory 16 values of K at a time. Every thread's outputs are strided by 16 in both directions so that neighbouring threads
 * read neighbouring B values from workgroup memory and write neighbouring columns of C.
 *
 * Weight gradients reduce over K = N·H·W (hundreds of thousands) into a small M·N: one tile would
 * leave all but a few of the GPU's cores idle. There the product runs split-K: each K-chunk writes
 * its partial product to scratch, and a column reduce (sum over the chunks) applies the epilogue.
 * The scratch is a tensor of the plan: `gemmScratchElements` says how large.
 *
 * M, N, K, the chunking and every offset are kernel parameters (dispatch.ts): what makes a GEMM
 * pipeline its own is its tile, its operands' layout (transposes, the convolutions' gathers), the
 * epilogue it runs and whether it is a split-K part, so the 1×1 convolutions of a network share a
 * handful of pipelines. The column reduce's variant is its width (up to 64 columns per workgroup).
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { ARENA_BINDING, ENTRY_ARGS, FLAT_WORKGROUP, KernelParams, load, reader, store } from '../dispatch';
import { activationWgsl, type Activation } from './activation';
import { WELFORD_MERGE_WGSL } from './welford';

/** Threads per workgroup of every kernel here (16×16 for the GEMM). */
const THREADS = 256;
/** K values per workgroup-memory tile. */
const TK = 16;

/** A workgroup's tile of C (16×16 threads). tm·tn ≤ 4096: at most 16 outputs per thread, kept in registers. */
export interface GemmTiles {
  readonly tm: 16 | 32 | 64 | 128;
  readonly tn: 16 | 32 | 64;
}

export interface GemmEpilogue {
  /** + bias[n] */
  readonly bias?: TensorRange;
  /** applied after the bias */
  readonly activation?: Activation;
  /** also store the value before the activation (its gradient needs it), laid out like C */
  readonly preActivation?: TensorRange;
  /** C += result (gradient accumulation) instead of C = result */
  readonly accumulate?: boolean;
  /**
   * Also write, for each tile row of C (tm rows) and each column n, the (count, mean, M2) of the
   * values stored, at statistics[(tileRow · N + n) · 3 …]: the partial batch statistics of the
   * BatchNorm that reads C, which batchNormStatisticsFromPartials finishes, so the BatchNorm does not
   * read C once more for them. gemmStatisticsGroups says how many tile rows (a product that runs
   * split-K, or writes C in its own layout, cannot: it throws).
   */
  readonly statistics?: TensorRange;
}

export interface GemmShape {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** A is stored [K, M] (row-major) and used transposed */
  readonly transA?: boolean;
  /** B is stored [N, K] (row-major) and used transposed */
  readonly transB?: boolean;
}

export interface GemmPlanOptions {
  /** the tile of C per workgroup; by default chosen from M and N (gemmTiles) */
  readonly tiles?: GemmTiles;
  /** the number of K-chunks (1: no split); by default chosen by gemmSplitK */
  readonly splitK?: number;
}

export interface GemmOptions extends GemmEpilogue, GemmPlanOptions {
  /**
   * Multiply A's stored element [r, c] by scale[floor(r / rowsPerGroup) · cols + c] as it is
   * loaded (cols: A's stored row length). With A = X [N·H·W, C] and scale = the SE gate [N, C],
   * rowsPerGroup = H·W, this is X·gate, forward (A as stored) and in the weight gradient (Aᵀ).
   */
  readonly aScale?: { readonly scale: TensorRange; readonly rowsPerGroup: number };
  /** split-K partial products, gemmScratchElements(shape, options) elements */
  readonly scratch?: TensorRange;
}

/** How one product runs: its tile, and its K-chunks (chunks = 1: no split). */
export interface GemmPlan {
  readonly tiles: GemmTiles;
  readonly chunks: number;
  /** K values per chunk, a multiple of the 16-deep K tile, so that no tile straddles two chunks */
  readonly kChunk: number;
}

/**
 * The operands of a product as WGSL, for `implicitGemm`. loadA/loadB are called only inside the
 * bounds (m < M, n < N, k < K) and may gather (im2col) and return 0 for padding. Their sizes and
 * offsets are parameters registered in `params`, which implicitGemm completes and dispatches with.
 */
export interface GemmProgram {
  readonly label: string;
  readonly params: KernelParams;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** WGSL body of `fn loadA(m: u32, k: u32) -> f32` */
  readonly loadA: string;
  /** the index of A that is contiguous in memory: tile loads walk it fastest, so they coalesce */
  readonly aFast: 'm' | 'k';
  /** WGSL body of `fn loadB(k: u32, n: u32) -> f32` */
  readonly loadB: string;
  readonly bFast: 'k' | 'n';
  /**
   * WGSL body of `fn cIndex(m: u32, n: u32) -> u32`, the element of C (and of the pre-activation)
   * holding C[m, n], relative to the tensor's start; absent: row-major [M, N]. A product with its
   * own cIndex cannot run split-K (the reduce writes row-major).
   */
  readonly cIndex?: string;
}

/** Workgroups a product should give the GPU (a few per core of a large one) before smaller tiles or split-K stop paying. */
const TARGET_WORKGROUPS = 256;

const nextPow2 = (v: number) => 2 ** Math.ceil(Math.log2(Math.max(1, v)));
const roundUp = (v: number, step: number) => Math.ceil(v / step) * step;

/**
 * The tile for an M×N product: as large as the product allows (to 128×16 or 64×64, where each
 * thread reuses what it reads most), made smaller while the tiles would not give the GPU
 * TARGET_WORKGROUPS workgroups (small products: the dense head, SE, late weight gradients).
 */
export function gemmTiles(M: number, N: number): GemmTiles {
  let tn = Math.min(64, Math.max(16, nextPow2(N)));
  let tm = Math.min(tn === 64 ? 64 : 128, Math.max(16, nextPow2(M)));
  const workgroups = () => Math.ceil(M / tm) * Math.ceil(N / tn);
  while (tm > 16 && workgroups() < TARGET_WORKGROUPS) tm /= 2;
  while (tn > 16 && workgroups() < TARGET_WORKGROUPS) tn /= 2;
  return { tm, tn } as GemmTiles;
}

/** The shortest K-chunk worth a workgroup (fewer would make the reduce, not the product, the cost). */
const MIN_K_PER_CHUNK = 256;
const MAX_CHUNKS = 256;

/**
 * How many K-chunks an M×N×K product runs in: more than 1 when K ≫ M·N, that is when the tiles of C
 * alone would not occupy the GPU and K is long enough to share out. 1 otherwise.
 */
export function gemmSplitK(M: number, N: number, K: number, tiles: GemmTiles = gemmTiles(M, N)): number {
  const workgroups = Math.ceil(M / tiles.tm) * Math.ceil(N / tiles.tn);
  if (workgroups >= TARGET_WORKGROUPS || K < 2 * MIN_K_PER_CHUNK) return 1;
  return Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / workgroups), Math.floor(K / MIN_K_PER_CHUNK), MAX_CHUNKS));
}

export function gemmPlan(M: number, N: number, K: number, options: GemmPlanOptions = {}): GemmPlan {
  const tiles = options.tiles ?? gemmTiles(M, N);
  if (tiles.tm * tiles.tn > 4096) throw new Error(`gemm: a ${tiles.tm}x${tiles.tn} tile is more than 16 outputs per thread`);
  const wanted = options.splitK ?? gemmSplitK(M, N, K, tiles);
  if (!Number.isInteger(wanted) || wanted < 1) throw new Error(`gemm: splitK must be a positive integer, got ${wanted}`);
  const kChunk = roundUp(Math.max(1, Math.ceil(K / wanted)), TK);
  return { tiles, kChunk, chunks: Math.max(1, Math.ceil(K / kChunk)) };
}

/**
 * The tile rows of C whose statistics a product's epilogue writes (GemmEpilogue.statistics), so the
 * statistics tensor holds groups · N · 3 values; 0 when it runs split-K and cannot.
 */
export function gemmStatisticsGroups(shape: Pick<GemmShape, 'M' | 'N' | 'K'>, options: GemmPlanOptions = {}): number {
  const plan = gemmPlan(shape.M, shape.N, shape.K, options);
  return plan.chunks > 1 ? 0 : Math.ceil(shape.M / plan.tiles.tm);
}

/** Scratch elements a product needs (its split-K partial products); 0 when it does not split. */
export function gemmScratchElements(shape: Pick<GemmShape, 'M' | 'N' | 'K'>, options: GemmPlanOptions = {}): number {
  const plan = gemmPlan(shape.M, shape.N, shape.K, options);
  return plan.chunks > 1 ? plan.chunks * shape.M * shape.N : 0;
}

function requireLength(kernel: string, what: string, t: TensorRange, elements: number): void {
  if (t.length < elements) throw new Error(`${kernel}: ${what} (${t.name}) holds ${t.length} values, the kernel needs ${elements}`);
}

function checkShape(kernel: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${kernel}: ${name} must be a non-negative integer, got ${v}`);
  }
}

/** C = op(A)·op(B) with the epilogue; returns 1 dispatch, or 2 when it runs split-K. */
export function gemm(ctx: KernelContext, a: TensorRange, b: TensorRange, c: TensorRange, shape: GemmShape, options: GemmOptions = {}): Dispatch[] {
  const { M, N, K } = shape;
  checkShape('gemm', { M, N, K });
  requireLength('gemm', 'A', a, M * K);
  requireLength('gemm', 'B', b, K * N);
  const p = new KernelParams();
  const sizeM = p.u('M', M);
  const sizeN = p.u('N', N);
  const sizeK = p.u('K', K);
  let scale = '';
  if (options.aScale) {
    const { scale: s, rowsPerGroup } = options.aScale;
    const [rows, cols] = shape.transA ? [K, M] : [M, K];
    if (!Number.isInteger(rowsPerGroup) || rowsPerGroup < 1) throw new Error(`gemm: aScale.rowsPerGroup must be a positive integer, got ${rowsPerGroup}`);
    requireLength('gemm', 'aScale', s, Math.ceil(rows / rowsPerGroup) * cols);
    const [r, col] = shape.transA ? ['k', 'm'] : ['m', 'k'];
    const gate = reader(p, 'aScale', s);
    scale = ` * ${gate(`(${r} / ${p.u('rowsPerGroup', rowsPerGroup)}) * ${shape.transA ? sizeM : sizeK} + ${col}`)}`;
  }
  const program: GemmProgram = {
    label: `gemm ${M}x${N}x${K}${shape.transA ? ' Aᵀ' : ''}${shape.transB ? ' Bᵀ' : ''}`,
    params: p,
    M,
    N,
    K,
    loadA: `return ${load(p, 'a', a, shape.transA ? `k * ${sizeM} + m` : `m * ${sizeK} + k`)}${scale};`,
    aFast: shape.transA ? 'm' : 'k',
    loadB: `return ${load(p, 'b', b, shape.transB ? `n * ${sizeK} + k` : `k * ${sizeN} + n`)};`,
    bFast: shape.transB ? 'k' : 'n',
  };
  return implicitGemm(ctx, program, c, options);
}

/** A product whose operands `program` describes (gemm above, the convolutions of conv.ts). */
export function implicitGemm(ctx: KernelContext, program: GemmProgram, c: TensorRange, options: GemmEpilogue & GemmPlanOptions & { scratch?: TensorRange } = {}): Dispatch[] {
  const { M, N, K, label } = program;
  const plan = gemmPlan(M, N, K, options);
  if (!program.cIndex) requireLength(label, 'C', c, M * N);
  if (options.bias) requireLength(label, 'bias', options.bias, N);
  if (options.preActivation && !program.cIndex) requireLength(label, 'preActivation', options.preActivation, M * N);
  if (M === 0 || N === 0) return [];
  const p = program.params;
  if (options.statistics) {
    if (plan.chunks > 1 || program.cIndex) throw new Error(`${label}: the statistics epilogue needs a one-pass product with row-major C`);
    if (options.accumulate) throw new Error(`${label}: the statistics epilogue sees only this product, not what it accumulates onto`);
    requireLength(label, 'statistics', options.statistics, Math.ceil(M / plan.tiles.tm) * N * 3);
  }
  if (plan.chunks === 1) {
    const stats = options.statistics ? p.at('statistics', options.statistics) : null;
    return [ctx.dispatch(`${label}${stats ? ' + statistics' : ''}`, gemmWgsl(program, plan, storeWgsl(p, c, options, program.cIndex, N), stats), workgroupCount(program, plan), p)];
  }
  if (program.cIndex) throw new Error(`${label}: a product with its own output layout cannot run split-K`);
  const scratch = options.scratch;
  if (!scratch) throw new Error(`${label}: split-K over ${plan.chunks} chunks needs a scratch tensor of ${plan.chunks * M * N} values (gemmScratchElements)`);
  requireLength(label, 'scratch', scratch, plan.chunks * M * N);
  const partial = `fn store(m: u32, n: u32, chunk: u32, acc: f32) -> f32 {
  mem[${p.at('scratch', scratch)} + chunk * ${p.u('M·N', M * N)} + m * ${p.u('N', N)} + n] = acc;
  return acc;
}`;
  return [
    ctx.dispatch(`${label} split-K ×${plan.chunks}`, gemmWgsl(program, plan, partial), workgroupCount(program, plan), p),
    reduceDispatch(ctx, `${label} split-K reduce`, scratch, plan.chunks, M * N, plan.chunks, 1, (q) => epilogueWrite(q, c, options, N)),
  ];
}

function workgroupCount(p: GemmProgram, plan: GemmPlan): number {
  return Math.ceil(p.M / plan.tiles.tm) * Math.ceil(p.N / plan.tiles.tn) * plan.chunks;
}

/** The epilogue as WGSL statements on `v` (the sum), writing element `i` of C. */
function epilogueBody(p: KernelParams, c: TensorRange, e: GemmEpilogue, n: string, i: string): string {
  const lines = [];
  if (e.bias) lines.push(`v = v + ${load(p, 'bias', e.bias, n)};`);
  if (e.preActivation) lines.push(`${store(p, 'preActivation', e.preActivation, i, 'v')};`);
  if (e.activation && e.activation !== 'none') lines.push(`v = ${activationWgsl(e.activation, 'v')};`);
  if (e.accumulate) lines.push(`v = v + ${load(p, 'c', c, i)};`);
  lines.push(`${store(p, 'c', c, i, 'v')};`);
  return lines.map((l) => `  ${l}`).join('\n');
}

function storeWgsl(p: KernelParams, c: TensorRange, e: GemmEpilogue, cIndex: string | undefined, N: number): string {
  return `fn cIndex(m: u32, n: u32) -> u32 {
  ${cIndex ?? `return m * ${p.u('N', N)} + n;`}
}
fn store(m: u32, n: u32, chunk: u32, acc: f32) -> f32 {
  let i = cIndex(m, n);
  var v = acc;
${epilogueBody(p, c, e, 'n', 'i')}
  return v;
}`;
}

/** The reduce's write of column `col` (= m·N + n of C) for a split-K product. */
function epilogueWrite(p: KernelParams, c: TensorRange, e: GemmEpilogue, N: number): string {
  return `fn write(col: u32, chunk: u32, sum: f32) {
  let n = col % ${p.u('N', N)};
  var v = sum;
${epilogueBody(p, c, e, 'n', 'col')}
}`;
}

/**
 * The tiled product. `store(m, n, chunk, acc)` writes one output and returns the value stored; with
 * `statistics` (the tensor's offset expression) the workgroup then reduces its stored values per
 * column: each thread Welford over its rm rows, then, one register column at a time, 16 threads
 * merge the 16 row-threads' summaries from workgroup memory (3 KB besides the tiles' ≤ 12.4 KB).
 */
function gemmWgsl(program: GemmProgram, plan: GemmPlan, store: string, statistics: string | null = null): string {
  const { tm, tn } = plan.tiles;
  const rm = tm / 16;
  const rn = tn / 16;
  // +1: a column of padding, so that 16 threads storing down a column of the tile hit 16 banks
  const aStride = tm + 1;
  const bStride = tn + 1;
  const tilesM = Math.ceil(program.M / tm);
  const tilesN = Math.ceil(program.N / tn);
  const p = program.params;
  const M = p.u('M', program.M);
  const N = p.u('N', program.N);
  const K = p.u('K', program.K);
  const TILES_M = p.u('tilesM', tilesM);
  const TILES_N = p.u('tilesN', tilesN);
  const TOTAL = p.u('workgroups', tilesM * tilesN * plan.chunks);
  const K_CHUNK = p.u('kChunk', plan.kChunk);
  const loadTile = (which: 'A' | 'B', loads: number, fastIsK: boolean, width: number, stride: number, rowBase: string, bound: string) => {
    const [kk, rr] = fastIsK ? [`e % ${TK}u`, `e / ${TK}u`] : [`e / ${width}u`, `e % ${width}u`];
    const call = which === 'A' ? 'loadA(r, k)' : 'loadB(k, r)';
    return `    for (var i = 0u; i < ${loads}u; i = i + 1u) {
      let e = lid + i * ${THREADS}u;
      let kk = ${kk};
      let rr = ${rr};
      let r = ${rowBase} + rr;
      let k = k0 + kk;
      var v = 0.0;
      if (r < ${bound} && k < kEnd) { v = ${call}; }
      tile${which}[kk * ${stride}u + rr] = v;
    }`;
  };
  const statisticsMemory = statistics
    ? `var<workgroup> statN: array<f32, ${THREADS}>;
var<workgroup> statM: array<f32, ${THREADS}>;
var<workgroup> statQ: array<f32, ${THREADS}>;
${WELFORD_MERGE_WGSL}`
    : '';
  return `${ARENA_BINDING}
var<workgroup> tileA: array<f32, ${TK * aStride}>;
var<workgroup> tileB: array<f32, ${TK * bStride}>;
${statisticsMemory}
fn loadA(m: u32, k: u32) -> f32 {
  ${program.loadA}
}
fn loadB(k: u32, n: u32) -> f32 {
  ${program.loadB}
}
${store}
@compute @workgroup_size(${THREADS})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  if (wg >= ${TOTAL}) { return; }
  let tileN = wg % ${TILES_N};
  let rest = wg / ${TILES_N};
  let m0 = (rest % ${TILES_M}) * ${tm}u;
  let n0 = tileN * ${tn}u;
  let chunk = rest / ${TILES_M};
  let kBegin = chunk * ${K_CHUNK};
  let kEnd = min(${K}, kBegin + ${K_CHUNK});
  let tx = lid % 16u;
  let ty = lid / 16u;
  var acc: array<f32, ${rm * rn}>;
  var a: array<f32, ${rm}>;
  var b: array<f32, ${rn}>;
  for (var k0 = kBegin; k0 < kEnd; k0 = k0 + ${TK}u) {
${loadTile('A', rm, program.aFast === 'k', tm, aStride, 'm0', M)}
${loadTile('B', rn, program.bFast === 'k', tn, bStride, 'n0', N)}
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk = kk + 1u) {
      for (var r = 0u; r < ${rm}u; r = r + 1u) { a[r] = tileA[kk * ${aStride}u + ty + r * 16u]; }
      for (var c = 0u; c < ${rn}u; c = c + 1u) { b[c] = tileB[kk * ${bStride}u + tx + c * 16u]; }
      for (var r = 0u; r < ${rm}u; r = r + 1u) {
        for (var c = 0u; c < ${rn}u; c = c + 1u) { acc[r * ${rn}u + c] = fma(a[r], b[c], acc[r * ${rn}u + c]); }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < ${rm}u; r = r + 1u) {
    for (var c = 0u; c < ${rn}u; c = c + 1u) {
      let m = m0 + ty + r * 16u;
      let n = n0 + tx + c * 16u;
      if (m < ${M} && n < ${N}) { acc[r * ${rn}u + c] = store(m, n, chunk, acc[r * ${rn}u + c]); }
    }
  }${statistics ? statisticsWgsl(statistics, rm, rn, tm, M, N) : ''}
}`;
}

/** The statistics epilogue's reduction (see gemmWgsl); `acc` holds the stored values by now. */
function statisticsWgsl(at: string, rm: number, rn: number, tm: number, M: string, N: string): string {
  return `
  for (var c = 0u; c < ${rn}u; c = c + 1u) {
    var s = vec3<f32>(0.0, 0.0, 0.0);
    for (var r = 0u; r < ${rm}u; r = r + 1u) {
      if (m0 + ty + r * 16u < ${M}) {
        let v = acc[r * ${rn}u + c];
        s.x = s.x + 1.0;
        let d = v - s.y;
        s.y = s.y + d / s.x;
        s.z = s.z + d * (v - s.y);
      }
    }
    statN[lid] = s.x;
    statM[lid] = s.y;
    statQ[lid] = s.z;
    workgroupBarrier();
    let n = n0 + tx + c * 16u;
    if (ty == 0u && n < ${N}) {
      var t = vec3<f32>(statN[tx], statM[tx], statQ[tx]);
      for (var j = 1u; j < 16u; j = j + 1u) {
        let o = j * 16u + tx;
        t = merge(t, vec3<f32>(statN[o], statM[o], statQ[o]));
      }
      let o = ${at} + ((m0 / ${tm}u) * ${N} + n) * 3u;
      mem[o] = t.x;
      mem[o + 1u] = t.y;
      mem[o + 2u] = t.z;
    }
    workgroupBarrier();
  }`;
}

// ---- column reduce ------------------------------------------------------------------------------

/** How a column reduce over `rows` is shared out: row chunks summed in parallel, then summed again. */
function reducePlan(rows: number, cols: number): { chunks: number; rowsPerChunk: number } {
  const colTiles = Math.ceil(cols / reduceWidth(cols));
  // enough workgroups to fill a large GPU, at least 128 rows each, at most 256 partial rows
  const chunks = Math.max(1, Math.min(Math.ceil(512 / colTiles), Math.floor(rows / 128), 256));
  return { chunks, rowsPerChunk: Math.ceil(rows / chunks) };
}

/** Columns per reduce workgroup: 64 (coalesced reads), fewer for narrow matrices so threads go to rows instead. */
function reduceWidth(cols: number): number {
  return Math.min(64, nextPow2(cols));
}

/** Scratch elements columnReduce needs for [rows, cols]: the partial sums of its first pass, 0 when it runs in one. */
export function columnReduceScratchElements(rows: number, cols: number): number {
  const { chunks } = reducePlan(rows, cols);
  return chunks > 1 ? chunks * cols : 0;
}

/**
 * dst[c] = Σ_r src[r, c] over a row-major [rows, cols] matrix (the bias gradient: dY summed over
 * N·H·W), or dst[c] += … with accumulate. Long matrices reduce in two dispatches through scratch
 * (columnReduceScratchElements), short ones in one.
 */
export function columnReduce(
  ctx: KernelContext,
  src: TensorRange,
  dst: TensorRange,
  shape: { rows: number; cols: number },
  options: { accumulate?: boolean; scratch?: TensorRange } = {},
): Dispatch[] {
  const { rows, cols } = shape;
  checkShape('columnReduce', { rows, cols });
  requireLength('columnReduce', 'source', src, rows * cols);
  requireLength('columnReduce', 'destination', dst, cols);
  if (cols === 0) return [];
  const write = (p: KernelParams) => {
    const DST = p.at('dst', dst);
    return `fn write(col: u32, chunk: u32, sum: f32) {
  mem[${DST} + col] = ${options.accumulate ? `mem[${DST} + col] + ` : ''}sum;
}`;
  };
  const { chunks, rowsPerChunk } = reducePlan(rows, cols);
  if (chunks === 1) return [reduceDispatch(ctx, `column reduce ${rows}x${cols}`, src, rows, cols, rows, 1, write)];
  const scratch = options.scratch;
  if (!scratch) throw new Error(`columnReduce: ${rows}x${cols} reduces in two passes and needs a scratch tensor of ${chunks * cols} values (columnReduceScratchElements)`);
  requireLength('columnReduce', 'scratch', scratch, chunks * cols);
  const partial = (p: KernelParams) => `fn write(col: u32, chunk: u32, sum: f32) {
  mem[${p.at('scratch', scratch)} + chunk * ${p.u('cols', cols)} + col] = sum;
}`;
  return [
    reduceDispatch(ctx, `column reduce ${rows}x${cols} pass 1`, src, rows, cols, rowsPerChunk, chunks, partial),
    reduceDispatch(ctx, `column reduce ${rows}x${cols} pass 2`, scratch, chunks, cols, chunks, 1, write),
  ];
}

/**
 * Sums of columns of a [rows, cols] matrix over `chunks` chunks of `rowsPerChunk` rows: workgroup
 * (column tile, chunk) hands each column to 256/width threads striding down its rows, then
 * folds their sums in workgroup memory; `write(col, chunk, sum)` (WGSL) stores it.
 */
function reduceDispatch(
  ctx: KernelContext,
  label: string,
  src: TensorRange,
  rows: number,
  cols: number,
  rowsPerChunk: number,
  chunks: number,
  write: (p: KernelParams) => string,
): Dispatch {
  const width = reduceWidth(cols);
  const lanes = THREADS / width;
  const colTiles = Math.ceil(cols / width);
  const folds: string[] = [];
  for (let s = lanes / 2; s >= 1; s /= 2) {
    folds.push(`  if (lane < ${s}u) { part[lid] = part[lid] + part[lid + ${s * width}u]; }\n  workgroupBarrier();`);
  }
  const p = new KernelParams();
  const COLS = p.u('cols', cols);
  const ROWS = p.u('rows', rows);
  const COL_TILES = p.u('colTiles', colTiles);
  const PER_CHUNK = p.u('rowsPerChunk', rowsPerChunk);
  const TOTAL = p.u('workgroups', colTiles * chunks);
  const SRC = p.at('src', src);
  const code = `${ARENA_BINDING}
var<workgroup> part: array<f32, ${THREADS}>;
${write(p)}
@compute @workgroup_size(${THREADS})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  if (wg >= ${TOTAL}) { return; }
  let chunk = wg / ${COL_TILES};
  let col = (wg % ${COL_TILES}) * ${width}u + lid % ${width}u;
  let lane = lid / ${width}u;
  let r1 = min(${ROWS}, (chunk + 1u) * ${PER_CHUNK});
  var s = 0.0;
  if (col < ${COLS}) {
    for (var r = chunk * ${PER_CHUNK} + lane; r < r1; r = r + ${lanes}u) {
      s = s + mem[${SRC} + r * ${COLS} + col];
    }
  }
  part[lid] = s;
  workgroupBarrier();
${folds.join('\n')}
  if (lane == 0u && col < ${COLS}) { write(col, chunk, part[lid]); }
}`;
  return ctx.dispatch(label, code, colTiles * chunks, p);
}
