#!/usr/bin/env node
// The `effitune` command: main/cli/main.ts, run from its bundle (rebuilt whenever a source changes)
// or through tsx where none can be built; see scripts/cli-entry.mjs.
import { loadCli } from '../scripts/cli-entry.mjs';

const { runCli, doors } = await loadCli();
const code = await runCli(process.argv.slice(2), undefined, doors);
// Flush stdout before exiting: piped output must not be cut off by process.exit.
process.stdout.write('', () => process.exit(code));
