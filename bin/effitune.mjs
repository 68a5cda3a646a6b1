#!/usr/bin/env node
// The `effitune` command. The CLI is TypeScript run through tsx, so there is no build step
// between editing the engine and using it; see main/cli/main.ts.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Our own tsconfig, not whatever tsconfig.json sits in the folder the user runs us from.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { runCli } = await import('../main/cli/main.ts');
// The composition root: the CLI door opens the HTTP door (serve) through this, never by import.
const doors = { http: () => import('../main/server/server.ts') };
const code = await runCli(process.argv.slice(2), undefined, doors);
// Flush stdout before exiting: piped output must not be cut off by process.exit.
process.stdout.write('', () => process.exit(code));
