import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract/contract';
import type { Command } from '../command';
import { openInBrowser } from '../open-browser';

export const serveCommand: Command = {
  words: ['serve'],
  args: [],
  optionsUsage: '[--port N] [--no-open]',
  summary: 'Run the app in your browser (http://127.0.0.1, loopback only, with a random token)',
  details: [
    '--port N    port to listen on (default 0: any free port)',
    '--no-open   do not open a browser; just print the URL',
    'With --json, one line {url, port, token, dataDir} is printed once the server listens.',
    'Ctrl-C stops the server.',
  ],
  options: { port: { type: 'string' }, 'no-open': { type: 'boolean' } },
  mode: 'browser',
  async run({ values, json, client, serviceForDoor, stdout, stderr, doors }) {
    const port = parsePort(values.port);
    if (!doors.http) throw new ApiError('internal', 'this process cannot open the HTTP door: run serve from the effitune command (bin/effitune.mjs)');
    const { defaultStaticDir, startServer } = await doors.http();
    const staticDir = defaultStaticDir();
    if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
      stderr.write(`Warning: the user interface is not built (${staticDir} has no index.html); run "npm run build:renderer".\n`);
    }
    const { dataDir } = await client().call('app.info', {});
    const server = await startServer({ service: serviceForDoor(), port, staticDir });
    if (json) {
      stdout.write(JSON.stringify({ url: server.url, port: server.port, token: server.token, dataDir }) + '\n');
    } else {
      stdout.write(`Effitune is running in your browser at ${server.url}\n  data folder: ${dataDir}\n  Press Ctrl-C to stop.\n`);
    }
    if (values['no-open'] !== true) {
      const outcome = await openInBrowser(server.url);
      if (!outcome.opened) stderr.write(`Not opening a browser: ${outcome.reason}. Open the URL above yourself.\n`);
    }
    await stopSignal();
    stderr.write('Stopping Effitune...\n');
    await server.close();
    return null;
  },
};

function parsePort(value: string | boolean | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value.trim()) || port > 65535) {
    throw new ApiError('invalid_input', `--port must be a whole number from 0 to 65535, got "${String(value)}"`);
  }
  return port;
}

function stopSignal(): Promise<NodeJS.Signals> {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      for (const s of signals) process.off(s, stop);
      resolve(signal);
    };
    for (const s of signals) process.on(s, stop);
  });
}
