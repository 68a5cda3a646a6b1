import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract/contract';
import type { Command } from '../command';
import { openInBrowser } from '../open-browser';

export const serveCommand: Command = {
  words: ['serve'],
  args: [],
  optionsUsage: '[--port N] [--no-open] [--host ADDRESS [--tls-cert FILE --tls-key FILE | --insecure-lan]]',
  summary: 'Run the app in your browser (http://127.0.0.1 with a random token; --host serves a GPU box to the network over TLS)',
  details: [
    '--port N          port to listen on (default 0: any free port)',
    '--no-open         do not open a browser; just print the URL',
    '--host ADDRESS    listen on this address or host name instead of 127.0.0.1 (0.0.0.0: every interface), e.g. to use a GPU box from a laptop; beyond loopback it needs --tls-cert and --tls-key, or --insecure-lan',
    '--tls-cert FILE   PEM certificate: serve https (and wss for events)',
    '--tls-key FILE    PEM private key of that certificate (not encrypted)',
    '--insecure-lan    serve plain http beyond loopback, on a network you trust (the token travels unencrypted)',
    'The simple safe way to use a remote box: run "effitune serve --port 8765 --no-open" there, "ssh -N -L 8765:127.0.0.1:8765 USER@BOX" on the laptop, and open the printed URL on the laptop.',
    'With --json, one line {url, port, token, dataDir, host, secure} is printed once the server listens.',
    'Ctrl-C stops the server.',
  ],
  options: {
    port: { type: 'string' },
    'no-open': { type: 'boolean' },
    host: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'insecure-lan': { type: 'boolean' },
  },
  mode: 'browser',
  async run({ values, json, client, serviceForDoor, stdout, stderr, doors }) {
    const port = parsePort(values.port);
    const host = parseHost(values.host);
    const tls = parseTls(values['tls-cert'], values['tls-key']);
    const insecureLan = values['insecure-lan'] === true;
    if (insecureLan && tls) throw new ApiError('invalid_input', '--insecure-lan is for serving without TLS; with --tls-cert and --tls-key leave it out');
    if (!doors.http) throw new ApiError('internal', 'this process cannot open the HTTP door: run serve from the effitune command (bin/effitune.mjs)');
    const door = await doors.http();
    const staticDir = door.defaultStaticDir();
    if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
      stderr.write(`Warning: the user interface is not built (${staticDir} has no index.html); run "npm run build:renderer".\n`);
    }
    const { dataDir } = await client().call('app.info', {});
    const server = await door.startServer({ service: serviceForDoor(), port, staticDir, host, tls, insecureLan });
    const secure = server.secure === true;
    for (const warning of server.warnings ?? []) stderr.write(`Warning: ${warning}.\n`);
    if (server.loopbackOnly === false) stderr.write(exposureNotice(server.url, server.host ?? host ?? '', server.port, secure));
    if (json) {
      stdout.write(JSON.stringify({ url: server.url, port: server.port, token: server.token, dataDir, host: server.host ?? '127.0.0.1', secure }) + '\n');
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

/** What a server reachable from the network gives away, said before anyone connects. */
function exposureNotice(url: string, host: string, port: number, secure: boolean): string {
  const origin = new URL(url).origin;
  const lines = [
    `Effitune is reachable from the network: listening on ${host} port ${port} (${origin}).`,
    '  Anyone on the network who gets the token can drive the app as you: create, change and delete',
    '  projects, read the image files of any project and import images from any folder this account',
    "  can read, write exports to its folders, and start training on this machine's GPU.",
    secure
      ? '  Traffic is encrypted (TLS); keep the URL (it holds the token) to yourself.'
      : '  Traffic is NOT encrypted (--insecure-lan): anyone who can watch the network can read the token.',
    '  Failed token attempts are limited per address (then 429). Safer: an SSH tunnel (effitune serve --help).',
  ];
  return lines.join('\n') + '\n';
}

function parsePort(value: string | boolean | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value.trim()) || port > 65535) {
    throw new ApiError('invalid_input', `--port must be a whole number from 0 to 65535, got "${String(value)}"`);
  }
  return port;
}

function parseHost(value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new ApiError('invalid_input', '--host needs an address or host name, e.g. --host 0.0.0.0');
  return value.trim();
}

function parseTls(cert: string | boolean | undefined, key: string | boolean | undefined): { certFile: string; keyFile: string } | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (typeof cert !== 'string' || cert === '') throw new ApiError('invalid_input', '--tls-key needs --tls-cert FILE too (the PEM certificate of that key)');
  if (typeof key !== 'string' || key === '') throw new ApiError('invalid_input', '--tls-cert needs --tls-key FILE too (the PEM private key of that certificate)');
  return { certFile: cert, keyFile: key };
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
