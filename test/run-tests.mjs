#!/usr/bin/env node
/**
 * `npm test`: builds the renderer (the e2e tests load it), runs every vitest project with the
 * default reporter and a JSON report (test-results/vitest.json), then prints one closing line
 *   N passed, N failed[, N skipped]
 * summing all suites. A test file that fails to load counts as one failed test, so a broken
 * file can never pass silently. Extra arguments go to vitest (e.g. `npm test -- test/unit`).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRendererBuilt } from '../scripts/renderer-build.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repoRoot, 'package.json'));
const reportFile = path.join(repoRoot, 'test-results', 'vitest.json');

let setupFailures = 0;
try {
  await ensureRendererBuilt();
} catch (err) {
  console.error(`npm test: building the renderer failed, so the e2e tests cannot pass: ${err.message}`);
  setupFailures += 1;
}

// The CLI, server and worker bundles (scripts/entry-bundles.cjs), so every CLI command and worker
// the tests start runs from them; without them everything still runs, through tsx, ~2 s slower each.
const { ensureEntries } = createRequire(import.meta.url)('../scripts/entry-bundles.cjs');
const bundles = await ensureEntries();
if (!bundles.dir) console.error(`npm test: the entries run through tsx (${bundles.reason})`);

// The layer check first: a wrong import is named in a second, before the long suites run (its
// vitest test, test/unit/layer-check.test.ts, counts it among the tests).
if (spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'check-layers.mjs')], { cwd: repoRoot, stdio: 'inherit' }).status !== 0) {
  console.error('npm test: the layer check failed (see above); the suites run anyway');
}

fs.mkdirSync(path.dirname(reportFile), { recursive: true });
fs.rmSync(reportFile, { force: true });
const vitest = path.join(path.dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...process.argv.slice(2)],
  { cwd: repoRoot, stdio: 'inherit' },
);

let passed = 0;
let failed = setupFailures;
let skipped = 0;
if (fs.existsSync(reportFile)) {
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed')) {
      console.error(`npm test: ${path.relative(repoRoot, file.name)} failed outside any test: ${(file.message ?? '').split('\n')[0]}`);
      failed += 1;
    }
  }
} else {
  console.error(`npm test: vitest wrote no report (exit status ${run.status}); counting the run as failed`);
  failed += 1;
}
if (run.status !== 0 && failed === 0) {
  console.error(`npm test: vitest exited with status ${run.status} although no test failed; counting that as a failure`);
  failed += 1;
}

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
