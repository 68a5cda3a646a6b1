#!/usr/bin/env node
// The `effitune` command. The CLI is TypeScript run through tsx, so there is no build step
// between editing the engine and using it; see main/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../main/cli/main.ts');
const code = await runCli(process.argv.slice(2));
// Flush stdout before exiting: piped output must not be cut off by process.exit.
process.stdout.write('', () => process.exit(code));
