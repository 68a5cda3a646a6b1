/** Shapes shared by the weight readers: float32 tensors with the name they carry in their file. */

export interface FileTensor {
  /** the tensor's name in its file (error messages name it) */
  readonly source: string;
  /** shape in TF.js layout (after any conversion) */
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** shape as stored in the file, when a conversion changed the layout */
  readonly sourceShape?: readonly number[];
  /** maps a TF.js-layout shape to the file's layout, so errors speak the file's language */
  readonly toSourceShape?: (shape: readonly number[]) => number[];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
