/** How the model picker writes its figures: the units the EfficientNet papers use (M params, G multiply-adds). */

export function formatParams(params: number): string {
  const millions = params / 1e6;
  return millions >= 100 ? millions.toFixed(1) : millions.toFixed(2);
}

/** Multiply-adds in G, as the papers count FLOPs; tiny custom models keep three significant digits. */
export function formatFlops(flops: number): string {
  const giga = flops / 1e9;
  if (giga >= 100) return giga.toFixed(0);
  if (giga >= 10) return giga.toFixed(1);
  if (giga >= 0.1) return giga.toFixed(2);
  return giga.toPrecision(2);
}

/** Training memory in binary units, as GPU memory is sold: MB below 1 GB so small models do not read 0.0, TB from 1024 GB. */
export function formatMemory(bytes: number): string {
  const gib = bytes / 2 ** 30;
  if (gib >= 1024) return `${(gib / 1024).toFixed(1)} TB`;
  if (gib >= 1) return `${gib.toFixed(gib >= 100 ? 0 : 1)} GB`;
  return `${Math.round(bytes / 2 ** 20)} MB`;
}

export function formatTop1(top1: number | null): string {
  return top1 === null ? '—' : top1.toFixed(1);
}

/** A multiplier such as α^φ: three significant digits are what the rounding rules can resolve. */
export function formatMultiplier(value: number): string {
  return value >= 10 ? value.toFixed(1) : value.toFixed(3);
}

/** φ as the slider shows it: quarter steps without trailing zeros, an explicit sign. */
export function formatPhi(phi: number): string {
  const text = String(Number(phi.toFixed(2)));
  return phi > 0 ? `+${text}` : text.replace('-', '−');
}
