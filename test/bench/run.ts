/**
 * Benchmark dispatcher: `npm run bench -- <case> [args...]` runs test/bench/<case>.ts, whose module
 * exports `run(args: string[]): Promise<void>`. With no case it runs them all in turn.
 * Adding a case = adding a file here; helpers shared by cases live in test/bench/lib/.
 * Results are JSON, one object per line on stdout (see lib/report.ts); chatter goes to stderr.
 * Benchmarks never fail on a timing: they measure against a reference taken in the same run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchCase {
  run(args: string[]): Promise<void>;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const available = fs
  .readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -'.ts'.length))
  .sort();

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (name === '--help' || name === '-h') {
    process.stderr.write(`usage: npm run bench -- [case] [args...]\ncases: ${available.join(', ')}\n`);
    return;
  }
  const names = name === undefined || name === 'all' ? available : [name];
  for (const caseName of names) {
    if (!available.includes(caseName)) {
      process.stderr.write(`unknown benchmark "${caseName}"; available: ${available.join(', ')}\n`);
      process.exitCode = 2;
      return;
    }
    const module = (await import(pathToFileURL(path.join(benchDir, `${caseName}.ts`)).href)) as Partial<BenchCase>;
    if (typeof module.run !== 'function') throw new Error(`test/bench/${caseName}.ts does not export run(args)`);
    process.stderr.write(`— bench ${caseName}\n`);
    await module.run(args);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
