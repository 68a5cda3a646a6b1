/**
 * What the UI remembers per project in localStorage (the model choice, the training and Lab forms):
 * JSON read back as a partial value the caller checks, and written without ever failing — a damaged
 * entry only costs the remembered value, and full or switched-off storage means it holds for this
 * page only.
 */
export function readStoredJson<T>(key: string): Partial<T> | null {
  try {
    const stored = JSON.parse(localStorage.getItem(key) ?? 'null') as unknown;
    return stored !== null && typeof stored === 'object' ? (stored as Partial<T>) : null;
  } catch {
    return null;
  }
}

export function storeJson(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or switched off: nothing to remember it by
  }
}
