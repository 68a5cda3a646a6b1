/** The training configurations of two runs as rows, each marked when the values differ. */

export interface ConfigRow {
  key: string;
  a: string;
  b: string;
  differs: boolean;
}

/** A config value in words: numbers as they are, objects as compact JSON, missing as "—". */
export function configValue(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Objects are compared key by key one level down (augment.flip, …) so the row names what differs. */
function flatten(config: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(config)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, v] of Object.entries(value as Record<string, unknown>)) out.set(`${key}.${inner}`, v);
    } else out.set(key, value);
  }
  return out;
}

export function configDiff(a: Record<string, unknown>, b: Record<string, unknown>): ConfigRow[] {
  const left = flatten(a);
  const right = flatten(b);
  const keys = [...new Set([...left.keys(), ...right.keys()])].sort();
  return keys.map((key) => {
    const x = configValue(left.get(key));
    const y = configValue(right.get(key));
    return { key, a: x, b: y, differs: x !== y };
  });
}
