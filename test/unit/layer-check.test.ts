/**
 * The layer check (scripts/check-layers.mjs) keeps the rooms in their line: it passes on this
 * repository, and it fails, naming file and line, on each kind of bad import planted in a copy.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const script = path.join(repoRoot, 'scripts', 'check-layers.mjs');
const planted = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-layers-'));
afterAll(() => fs.rmSync(planted, { recursive: true, force: true }));

function runCheck(root: string) {
  const run = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
  return { code: run.status, lines: run.stderr.trim().split('\n') };
}

function plant(file: string, text: string) {
  fs.mkdirSync(path.dirname(path.join(planted, file)), { recursive: true });
  fs.writeFileSync(path.join(planted, file), text);
}

describe('layer check', () => {
  it('passes on this repository', () => {
    const { code, lines } = runCheck(repoRoot);
    expect(lines.at(-1)).toMatch(/every import runs down the line contract < /);
    expect(code).toBe(0);
  });

  it('fails on planted bad imports, naming each file and line', () => {
    plant('main/contract/contract.ts', "import { z } from 'zod';\nimport fs from 'node:fs';\n");
    plant('main/train/loop.ts', "import { z } from 'zod';\n");
    plant('main/model/builder.ts', "import { ApiError } from '../contract/contract';\n\nimport { loop } from '../train/loop';\n");
    plant('main/eval/metrics.ts', "export const x = 1;\n");
    plant('main/inference/session.ts', "import type { X } from '../engine/plan';\n");
    plant('main/engine/plan.ts', 'export type X = number;\n');
    plant('main/export/run.ts', "const m = await import('../service/service');\nimport { app } from 'electron';\n");
    plant('main/service/service.ts', "import { metrics } from '../eval/metrics';\n");
    plant('main/server/server.ts', "import { Service } from '../service/service';\n");
    plant('main/cli/serve.ts', "import { startServer } from '../server/server';\n");
    plant('electron/protocols.ts', "import { serve } from '../main/server/server';\n");
    plant('renderer/src/App.tsx', "import { createClient } from '../../main/contract/client';\nimport { queries } from '../../main/project/queries';\nimport fs from 'node:fs';\n");

    const { code, lines } = runCheck(planted);
    expect(code).toBe(1);
    const expected = [
      'main/contract/contract.ts:2: the contract imports only zod',
      'main/model/builder.ts:3: model imports train, a room above it',
      'main/inference/session.ts:1: inference imports its peer engine',
      'main/export/run.ts:1: export imports service, a room above it',
      'main/export/run.ts:2: main/ never imports electron',
      'main/cli/serve.ts:1: door cli imports door server',
      'electron/protocols.ts:1: door electron imports door server',
      'renderer/src/App.tsx:2: the renderer imports only main/contract',
      "renderer/src/App.tsx:3: the renderer runs in a browser: no Node built-in 'node:fs'",
    ];
    for (const line of expected) expect(lines.some((l) => l.startsWith(line)), `${line}\n---\n${lines.join('\n')}`).toBe(true);
    expect(lines.at(-1)).toBe(`layer check: ${expected.length} violation(s) in 12 files`);
  });
});
