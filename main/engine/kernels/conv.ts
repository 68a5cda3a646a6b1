/**
 * k×k convolution (the stem, fused-MBConv's expansion) as implicit GEMM over NHWC activations and
 * Keras kernels [k, k, Cin, Cout], TF "SAME" padding: out = ceil(in / stride), the odd padding pixel
 * after (bottom/right). No im2col buffer: the GEMM's tile loader gathers the patch values.
 *
 *   forward       Y[n·oh·ow, co]   = Σ_(kh,kw,ci) X[n, oh·s+kh−pt, ow·s+kw−pl, ci] · W[kh,kw,ci,co]
 *   input grad    dX[n·ih·iw, ci]  = Σ_(kh,kw,co) dY[n, oh, ow, co] · W[kh,kw,ci,co],  ih = oh·s+kh−pt
 *   weight grad   dW[kh·kw·ci, co] = Σ_(n,oh,ow) X[n, oh·s+kh−pt, ow·s+kw−pl, ci] · dY[n, oh, ow, co]
 *
 * The input gradient of a stride-s convolution is a transposed convolution. Gathered naively, most
 * of its taps fall between output pixels (3 of 4 at stride 2) and cost a multiply by nothing. It is
 * run instead as s² products, one per phase (ih mod s, iw mod s) of the input: within a phase the
 * taps that reach it are exactly kh ≡ (ih + pt) mod s, and each maps to a whole output pixel.
 *
 * The weight gradient reduces over N·OH·OW and runs split-K (gemm.ts); the bias gradient is
 * columnReduce(dY as [N·OH·OW, Cout]).
 *
 * Every size here, the kernel size and stride included, is a kernel parameter (dispatch.ts): the
 * gathers are index arithmetic inside the GEMM's tile loads, which loop over tiles, not taps. So
 * the k×k convolutions of a network share their GEMM's pipelines, and the s² phases of an input
 * gradient run one pipeline.
 */
import type { TensorRange } from '../arena';
import type { Dispatch, KernelContext } from '../dispatch';
import { ARENA_BINDING, ENTRY_ARGS, FLAT_WORKGROUP, KernelParams, load, writer } from '../dispatch';
import { gemmScratchElements, implicitGemm, type GemmEpilogue, type GemmPlanOptions, type GemmProgram } from './gemm';

export interface ConvShape {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly inChannels: number;
  readonly outChannels: number;
  /** square kernel side */
  readonly kernel: number;
  readonly stride: number;
}

export interface ConvGeometry {
  readonly outHeight: number;
  readonly outWidth: number;
  /** SAME padding before (top, left); the rest of padTotal goes after */
  readonly padTop: number;
  readonly padLeft: number;
}

/** TF "SAME" padding of one axis. */
function samePadding(size: number, kernel: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return { out, before: Math.floor(total / 2) };
}

export function convGeometry(s: ConvShape): ConvGeometry {
  for (const [name, v] of Object.entries(s)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`conv: ${name} must be a positive integer, got ${v}`);
  }
  const h = samePadding(s.height, s.kernel, s.stride);
  const w = samePadding(s.width, s.kernel, s.stride);
  return { outHeight: h.out, outWidth: w.out, padTop: h.before, padLeft: w.before };
}

function requireLength(kernel: string, what: string, t: TensorRange, elements: number): void {
  if (t.length < elements) throw new Error(`${kernel}: ${what} (${t.name}) holds ${t.length} values, the convolution needs ${elements}`);
}

function describe(s: ConvShape): string {
  return `${s.kernel}x${s.kernel}/${s.stride} ${s.batch}x${s.height}x${s.width}x${s.inChannels}→${s.outChannels}`;
}

/** The sizes the gathers read, as kernel parameters (u32; the `i` forms i32 for signed index math). */
function sizes(p: KernelParams, s: ConvShape, g: ConvGeometry) {
  return {
    H: p.u('h', s.height),
    W: p.u('w', s.width),
    CIN: p.u('cin', s.inChannels),
    COUT: p.u('cout', s.outChannels),
    KSIZE: p.u('kernel', s.kernel),
    STRIDE: p.u('stride', s.stride),
    OH: p.u('oh', g.outHeight),
    OW: p.u('ow', g.outWidth),
    hI: `i32(${p.u('h', s.height)})`,
    wI: `i32(${p.u('w', s.width)})`,
    ohI: `i32(${p.u('oh', g.outHeight)})`,
    owI: `i32(${p.u('ow', g.outWidth)})`,
    padTop: p.i('padTop', g.padTop),
    padLeft: p.i('padLeft', g.padLeft),
  };
}

/** The WGSL that reads X at output pixel (oh, ow), tap (kh, kw), channel ci, batch `b`: 0 in the padding. */
function gatherInput(p: KernelParams, x: TensorRange, s: ConvShape, g: ConvGeometry): string {
  const z = sizes(p, s, g);
  return `let ih = i32(oh * ${z.STRIDE} + kh) - ${z.padTop};
  let iw = i32(ow * ${z.STRIDE} + kw) - ${z.padLeft};
  if (ih < 0 || ih >= ${z.hI} || iw < 0 || iw >= ${z.wI}) { return 0.0; }
  return ${load(p, 'x', x, `((b * ${z.H} + u32(ih)) * ${z.W} + u32(iw)) * ${z.CIN} + ci`)};`;
}

/**
 * Y = conv(X, W) (+ bias, activation, accumulate: gemm's epilogue). X [N, H, W, Cin], W [k, k, Cin,
 * Cout], Y [N, OH, OW, Cout]. One dispatch.
 */
export function convForward(
  ctx: KernelContext,
  x: TensorRange,
  w: TensorRange,
  y: TensorRange,
  shape: ConvShape,
  options: GemmEpilogue & Pick<GemmPlanOptions, 'tiles'> = {},
): Dispatch[] {
  const g = convGeometry(shape);
  const { batch, height, width, inChannels: cin, outChannels: cout, kernel: k } = shape;
  requireLength('convForward', 'X', x, batch * height * width * cin);
  requireLength('convForward', 'W', w, k * k * cin * cout);
  const p = new KernelParams();
  const z = sizes(p, shape, g);
  const program: GemmProgram = {
    label: `conv ${describe(shape)} forward`,
    params: p,
    M: batch * g.outHeight * g.outWidth,
    N: cout,
    K: k * k * cin,
    loadA: `let ow = m % ${z.OW};
  let oh = (m / ${z.OW}) % ${z.OH};
  let b = m / ${p.u('ow·oh', g.outWidth * g.outHeight)};
  let ci = k % ${z.CIN};
  let kw = (k / ${z.CIN}) % ${z.KSIZE};
  let kh = k / ${p.u('cin·kernel', cin * k)};
  ${gatherInput(p, x, shape, g)}`,
    aFast: 'k',
    loadB: `return mem[${p.at('w', w)} + k * ${z.COUT} + n];`,
    bFast: 'n',
  };
  return implicitGemm(ctx, program, y, { ...options, splitK: 1 });
}

/**
 * dX = the input gradient of Y = conv(X, W) given dY (dX += … with accumulate): s² dispatches, one
 * per input phase. dY [N, OH, OW, Cout], W [k, k, Cin, Cout], dX [N, H, W, Cin].
 */
export function convInputGrad(
  ctx: KernelContext,
  dy: TensorRange,
  w: TensorRange,
  dx: TensorRange,
  shape: ConvShape,
  options: { accumulate?: boolean; tiles?: GemmPlanOptions['tiles'] } = {},
): Dispatch[] {
  const g = convGeometry(shape);
  const { batch, height, width, inChannels: cin, outChannels: cout, kernel: k, stride: s } = shape;
  requireLength('convInputGrad', 'dY', dy, batch * g.outHeight * g.outWidth * cout);
  requireLength('convInputGrad', 'W', w, k * k * cin * cout);
  requireLength('convInputGrad', 'dX', dx, batch * height * width * cin);
  const dispatches: Dispatch[] = [];
  for (let ph = 0; ph < s; ph++) {
    for (let pw = 0; pw < s; pw++) {
      const rows = phaseAxis(ph, height, g.padTop, k, s);
      const cols = phaseAxis(pw, width, g.padLeft, k, s);
      if (rows.pixels === 0 || cols.pixels === 0) continue;
      const taps = rows.taps * cols.taps;
      if (taps === 0) {
        // no tap reaches this phase (kernel < stride): its gradient is 0
        if (!options.accumulate) dispatches.push(zeroPhase(ctx, dx, shape, ph, pw, rows.pixels, cols.pixels));
        continue;
      }
      // Phase input pixel (ih', iw') is ih = ph + s·ih'; its j-th tap is kh = kh0 + s·j, reaching
      // output row oh = ih' + q − j (q = (ph + pt − kh0) / s, exact by the choice of kh0).
      const p = new KernelParams();
      const z = sizes(p, shape, g);
      const colPixels = p.u('colPixels', cols.pixels);
      const rowPixels = p.u('rowPixels', rows.pixels);
      const colTaps = p.u('colTaps', cols.taps);
      const phasePixels = p.u('phasePixels', cols.pixels * rows.pixels);
      const coutColTaps = p.u('cout·colTaps', cout * cols.taps);
      const program: GemmProgram = {
        label: `conv ${describe(shape)} input grad phase ${ph},${pw}`,
        params: p,
        M: batch * rows.pixels * cols.pixels,
        N: cin,
        K: taps * cout,
        loadA: `let iwp = m % ${colPixels};
  let ihp = (m / ${colPixels}) % ${rowPixels};
  let b = m / ${phasePixels};
  let co = k % ${z.COUT};
  let jw = (k / ${z.COUT}) % ${colTaps};
  let jh = k / ${coutColTaps};
  let oh = i32(ihp) + ${p.i('rowShift', rows.shift)} - i32(jh);
  let ow = i32(iwp) + ${p.i('colShift', cols.shift)} - i32(jw);
  if (oh < 0 || oh >= ${z.ohI} || ow < 0 || ow >= ${z.owI}) { return 0.0; }
  return ${load(p, 'dy', dy, `((b * ${z.OH} + u32(oh)) * ${z.OW} + u32(ow)) * ${z.COUT} + co`)};`,
        aFast: 'k',
        loadB: `let co = k % ${z.COUT};
  let kw = ${p.u('colFirstTap', cols.firstTap)} + ${z.STRIDE} * ((k / ${z.COUT}) % ${colTaps});
  let kh = ${p.u('rowFirstTap', rows.firstTap)} + ${z.STRIDE} * (k / ${coutColTaps});
  return mem[${p.at('w', w)} + ((kh * ${z.KSIZE} + kw) * ${z.CIN} + n) * ${z.COUT} + co];`,
        bFast: 'k',
        cIndex: `let iw = ${p.u('pw', pw)} + ${z.STRIDE} * (m % ${colPixels});
  let ih = ${p.u('ph', ph)} + ${z.STRIDE} * ((m / ${colPixels}) % ${rowPixels});
  let b = m / ${phasePixels};
  return ((b * ${z.H} + ih) * ${z.W} + iw) * ${z.CIN} + n;`,
      };
      dispatches.push(...implicitGemm(ctx, program, dx, { accumulate: options.accumulate, tiles: options.tiles, splitK: 1 }));
    }
  }
  return dispatches;
}

/** dX = 0 over input phase (ph, pw), rows × cols pixels of it. */
function zeroPhase(ctx: KernelContext, dx: TensorRange, s: ConvShape, ph: number, pw: number, rows: number, cols: number): Dispatch {
  const count = s.batch * rows * cols * s.inChannels;
  const p = new KernelParams();
  const CIN = p.u('cin', s.inChannels);
  const STRIDE = p.u('stride', s.stride);
  const code = `${ARENA_BINDING}
@compute @workgroup_size(${ZERO_WORKGROUP})
fn main(${ENTRY_ARGS}) {
  ${FLAT_WORKGROUP}
  let i = wg * ${ZERO_WORKGROUP}u + lid;
  if (i >= ${p.u('count', count)}) { return; }
  let ci = i % ${CIN};
  let iw = ${p.u('pw', pw)} + ${STRIDE} * ((i / ${CIN}) % ${p.u('cols', cols)});
  let ih = ${p.u('ph', ph)} + ${STRIDE} * ((i / ${p.u('cin·cols', s.inChannels * cols)}) % ${p.u('rows', rows)});
  let b = i / ${p.u('cin·cols·rows', s.inChannels * cols * rows)};
  ${writer(p, 'dx', dx)(`((b * ${p.u('h', s.height)} + ih) * ${p.u('w', s.width)} + iw) * ${CIN} + ci`, '0.0')};
}`;
  return ctx.dispatch(`conv ${describe(s)} input grad phase ${ph},${pw} (no taps)`, code, Math.ceil(count / ZERO_WORKGROUP), p);
}

const ZERO_WORKGROUP = 256;

/** One axis of an input phase p: its pixel count, the taps that reach it (first, count), and the output shift q. */
function phaseAxis(p: number, size: number, padBefore: number, kernel: number, stride: number) {
  const firstTap = (p + padBefore) % stride;
  return {
    pixels: Math.max(0, Math.ceil((size - p) / stride)),
    firstTap,
    taps: firstTap < kernel ? Math.ceil((kernel - firstTap) / stride) : 0,
    shift: (p + padBefore - firstTap) / stride,
  };
}

/** Scratch elements convWeightGrad needs (split-K partial products); 0 when it does not split. */
export function convWeightGradScratchElements(shape: ConvShape, options: GemmPlanOptions = {}): number {
  const g = convGeometry(shape);
  return gemmScratchElements(weightGradDims(shape, g), options);
}

function weightGradDims(s: ConvShape, g: ConvGeometry) {
  return { M: s.kernel * s.kernel * s.inChannels, N: s.outChannels, K: s.batch * g.outHeight * g.outWidth };
}

/**
 * dW = the weight gradient of Y = conv(X, W) given dY (dW += … with accumulate), split-K over
 * N·OH·OW when that is long (scratch: convWeightGradScratchElements). X [N, H, W, Cin],
 * dY [N, OH, OW, Cout], dW [k, k, Cin, Cout].
 */
export function convWeightGrad(
  ctx: KernelContext,
  x: TensorRange,
  dy: TensorRange,
  dw: TensorRange,
  shape: ConvShape,
  options: { accumulate?: boolean; scratch?: TensorRange } & GemmPlanOptions = {},
): Dispatch[] {
  const g = convGeometry(shape);
  const { batch, height, width, inChannels: cin, outChannels: cout, kernel: k } = shape;
  requireLength('convWeightGrad', 'X', x, batch * height * width * cin);
  requireLength('convWeightGrad', 'dY', dy, batch * g.outHeight * g.outWidth * cout);
  const p = new KernelParams();
  const z = sizes(p, shape, g);
  const program: GemmProgram = {
    label: `conv ${describe(shape)} weight grad`,
    params: p,
    ...weightGradDims(shape, g),
    loadA: `let ci = m % ${z.CIN};
  let kw = (m / ${z.CIN}) % ${z.KSIZE};
  let kh = m / ${p.u('cin·kernel', cin * k)};
  let ow = k % ${z.OW};
  let oh = (k / ${z.OW}) % ${z.OH};
  let b = k / ${p.u('ow·oh', g.outWidth * g.outHeight)};
  ${gatherInput(p, x, shape, g)}`,
    aFast: 'm',
    loadB: `return ${load(p, 'dy', dy, `k * ${z.COUT} + n`)};`,
    bFast: 'n',
  };
  return implicitGemm(ctx, program, dw, options);
}
