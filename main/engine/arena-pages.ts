/**
 * An arena larger than one storage binding, in pages. WebGPU caps each binding (the adapter's
 * maxStorageBufferBindingSize: 2–4 GiB on desktop GPUs, 128 MiB at the spec's minimum), while a
 * large variant's step wants more (B3 at 300 px, batch 32: 6 GiB in fp32). Such an arena is a few
 * buffers of `pageBytes` each (a power of two), bound side by side, and its kernels address it as
 * one: every `mem[i]` of their WGSL becomes `arena_load(i)` (the page is i >> shift, the element
 * i & mask) and every `mem[i] = v` an `arena_store(i, v)`; the same for the half arena's `mem16`.
 * A tensor may straddle two pages: each element finds its own.
 *
 * An arena that fits one binding is one buffer and its kernels are the WGSL as written (no
 * indirection): the paged form only exists where it is needed. Pages per kind are bounded so that
 * the six buffers fit WebGPU's guaranteed 8 storage buffers per shader stage: 4 for float32, 2 for
 * float16. Indices stay u32: at most 2^32 elements per kind.
 */

/** Float32 pages at most (bindings 0, 2, 3, 4). */
export const MAX_F32_PAGES = 4;
/** Float16 pages at most (bindings 1, then after the float32 pages). */
export const MAX_HALF_PAGES = 2;

/** How an arena's two kinds are paged: pages of 2^shift elements; 1 page: a single binding, addressed directly. */
export interface ArenaPaging {
  readonly f32Pages: number;
  /** log2 of the float32 elements per page */
  readonly f32Shift: number;
  readonly halfPages: number;
  /** log2 of the float16 elements per page */
  readonly halfShift: number;
}

export const SINGLE_PAGE: ArenaPaging = { f32Pages: 1, f32Shift: 32, halfPages: 1, halfShift: 32 };

/** The largest power of two at most `bytes` (and at least 256). */
export function pageBytesFor(bindingBytes: number): number {
  return 2 ** Math.max(8, Math.floor(Math.log2(Math.max(256, bindingBytes))));
}

/**
 * The most bytes each kind of arena can hold on a GPU whose storage bindings hold `bindingBytes`:
 * one binding, or up to the kind's pages of the largest power of two that fits a binding, within
 * u32 element indices.
 */
export function arenaCapacity(bindingBytes: number): { f32: number; half: number; pageBytes: number } {
  const pageBytes = pageBytesFor(bindingBytes);
  return {
    pageBytes,
    f32: Math.min(Math.max(bindingBytes, MAX_F32_PAGES * pageBytes), 2 ** 32 * 4),
    half: Math.min(Math.max(bindingBytes, MAX_HALF_PAGES * pageBytes), 2 ** 32 * 2),
  };
}

/** The pages of an arena kind of `bytes`: one where it fits `bindingBytes`, else pages of `pageBytes`. */
export function pagesOf(bytes: number, bindingBytes: number, pageBytes: number): number {
  return bytes <= bindingBytes ? 1 : Math.ceil(bytes / pageBytes);
}

/** The binding of page k of a kind (f32 pages 0, 2, 3, …; half pages 1, then after the f32 ones). */
export function pageBinding(paging: ArenaPaging, half: boolean, k: number): number {
  if (k === 0) return half ? 1 : 0;
  return half ? paging.f32Pages + k : k + 1;
}

const IDENTIFIER = /[A-Za-z0-9_]/;

/** The index of the `]` closing the `[` at `open` (brackets nest; WGSL has no string literals). */
function closing(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '[') depth++;
    else if (code[i] === ']' && --depth === 0) return i;
  }
  throw new Error(`arena pages: unbalanced [ at ${open} in a kernel`);
}

/** The end of the expression starting at `from`: the `;` (or the `}` closing its block) at depth 0. */
function statementEnd(code: string, from: number): number {
  let depth = 0;
  for (let i = from; i < code.length; i++) {
    const ch = code[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth === 0) return i;
      depth--;
    } else if (ch === ';' && depth === 0) return i;
  }
  throw new Error('arena pages: a store without an end in a kernel');
}

/**
 * `code` with every access to the buffer `name` (`name[i]` read, `name[i] = v`, `name[i] += v`)
 * through `load(i)` / `store(i, v)`. Indices and values are rewritten too (they may read the arena).
 */
export function routeAccesses(code: string, name: string, load: string, store: string): string {
  let out = '';
  let i = 0;
  const token = `${name}[`;
  for (;;) {
    const found = code.indexOf(token, i);
    if (found < 0) return out + code.slice(i);
    if (found > 0 && IDENTIFIER.test(code[found - 1])) {
      out += code.slice(i, found + token.length);
      i = found + token.length;
      continue;
    }
    const open = found + name.length;
    const close = closing(code, open);
    const index = routeAccesses(code.slice(open + 1, close), name, load, store);
    let after = close + 1;
    while (after < code.length && /\s/.test(code[after])) after++;
    const assign = code[after] === '=' && code[after + 1] !== '=' ? 1 : code.startsWith('+=', after) ? 2 : 0;
    out += code.slice(i, found);
    if (assign === 0) {
      out += `${load}(${index})`;
      i = close + 1;
      continue;
    }
    const valueFrom = after + assign;
    const end = statementEnd(code, valueFrom);
    const value = routeAccesses(code.slice(valueFrom, end), name, load, store).trim();
    out += assign === 1 ? `${store}(${index}, ${value})` : `${store}(${index}, ${load}(${index}) + (${value}))`;
    i = end;
  }
}

/** The declarations and accessors of one paged kind: its page buffers, `load(i)` and `store(i, v)`. */
function pagedKind(paging: ArenaPaging, half: boolean): string {
  const pages = half ? paging.halfPages : paging.f32Pages;
  const shift = half ? paging.halfShift : paging.f32Shift;
  const type = half ? 'f16' : 'f32';
  const buffer = (k: number) => `${half ? 'mem16_' : 'mem_'}${k}`;
  const load = half ? 'arena16_load' : 'arena_load';
  const store = half ? 'arena16_store' : 'arena_store';
  const mask = `${(2 ** shift - 1) >>> 0}u`;
  const declarations = Array.from({ length: pages }, (_, k) => `@group(0) @binding(${pageBinding(paging, half, k)}) var<storage, read_write> ${buffer(k)}: array<${type}>;`);
  const reads = Array.from({ length: pages - 1 }, (_, k) => `  if (page == ${k + 1}u) { return ${buffer(k + 1)}[j]; }`);
  const writes = Array.from({ length: pages - 1 }, (_, k) => `  if (page == ${k + 1}u) { ${buffer(k + 1)}[j] = v; return; }`);
  return `${declarations.join('\n')}
fn ${load}(i: u32) -> ${type} {
  let page = i >> ${shift}u;
  let j = i & ${mask};
${reads.join('\n')}
  return ${buffer(0)}[j];
}
fn ${store}(i: u32, v: ${type}) {
  let page = i >> ${shift}u;
  let j = i & ${mask};
${writes.join('\n')}
  ${buffer(0)}[j] = v;
}`;
}

/**
 * A kernel's WGSL for a paged arena: the declaration line of `mem` (`f32Declaration`) replaced by
 * the pages and their accessors, and the half arena's (`halfDeclaration`, added where the code
 * uses `mem16`) likewise; a kind on one page keeps its single binding and direct indexing.
 */
export function pagedWgsl(code: string, paging: ArenaPaging, f32Declaration: string, halfDeclaration: string): string {
  let out = code;
  if (paging.f32Pages > 1) {
    if (!out.includes(f32Declaration)) throw new Error('arena pages: a kernel without the arena binding');
    out = routeAccesses(out.replace(f32Declaration, ''), 'mem', 'arena_load', 'arena_store');
    out = out.replace(/^((\s*enable [^;]+;\s*)*)/, (directives) => `${directives}${pagedKind(paging, false)}\n`);
  }
  if (code.includes('mem16[')) {
    const half = paging.halfPages > 1 ? pagedKind(paging, true) : halfDeclaration;
    if (paging.halfPages > 1) out = routeAccesses(out, 'mem16', 'arena16_load', 'arena16_store');
    out = out.replace(/^((\s*enable [^;]+;\s*)*)/, (directives) => `enable f16;\n${directives}${half}\n`);
  }
  return out;
}
