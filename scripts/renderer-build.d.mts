/** Types of renderer-build.mjs for the TypeScript callers (tests). */
export function rendererIsStale(): 'missing' | 'stale' | null;
export function ensureRendererBuilt(options?: { log?: (message: string) => void; force?: boolean }): Promise<boolean>;
