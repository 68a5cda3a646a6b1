/**
 * Options arrive as text. A numeric text becomes a number; anything else passes through unchanged
 * so the contract's validation rejects it with the field's name (one place that says what is valid).
 */
export function numberOrText(value: string | boolean | undefined): unknown {
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return value;
}
