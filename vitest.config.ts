/**
 * Two projects: unit + integration tests first, two files at a time even on two cores (vitest's
 * default, one fewer than the cores, would run them one by one there: most files wait on child
 * processes, SwiftShader or the disk, and two at a time took 587 s where one took ~800 s), then the
 * e2e tests (a real Chromium against browser mode) on their own, one file at a time, with long
 * timeouts: CI has two CPU cores.
 */
import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
