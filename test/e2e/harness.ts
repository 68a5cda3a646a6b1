/**
 * End-to-end harness: the real app in browser mode (the CLI's `serve`, as a child process with a
 * temporary EFFITUNE_HOME) and a real Chromium driven by playwright-core.
 *
 * Browser, first found wins: $CHROME_PATH, Playwright's own Chromium, Debian's /usr/bin/chromium,
 * else the one inside the npm package @sparticuz/chromium (Linux x64), so a fresh clone needs
 * nothing beyond `npm install`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { ensureRendererBuilt } from '../../scripts/renderer-build.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repoRoot, 'bin', 'effitune.mjs');

export interface RunningApp {
  /** Page URL with ?token=. */
  url: string;
  token: string;
  port: number;
  /** The temporary EFFITUNE_HOME (removed by stop()). */
  dataDir: string;
  /** What the server wrote on stderr so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export async function startApp(options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunningApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'effitune-e2e-home-'));
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--json', '--no-open'], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env, EFFITUNE_HOME: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  try {
    const info = await readServeLine(child, options.timeoutMs ?? 60_000, () => stderr);
    return { ...info, dataDir, log: () => stderr, stop: () => stopChild(child).finally(() => fs.rmSync(dataDir, { recursive: true, force: true })) };
  } catch (err) {
    await stopChild(child);
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** `serve --json` prints one line {url, port, token, dataDir} once it listens. */
function readServeLine(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<{ url: string; token: string; port: number }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => fail(`effitune serve printed no URL within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`${why}\nstdout: ${stdout}\nstderr: ${stderr()}`));
    };
    child.once('exit', (code, signal) => fail(`effitune serve exited early (code ${code}, signal ${signal})`));
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      try {
        const line = JSON.parse(stdout.slice(0, newline)) as { url: string; token: string; port: number };
        resolve(line);
      } catch {
        fail('effitune serve --json printed a line that is not JSON');
      }
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface BrowserChoice {
  source: 'CHROME_PATH' | 'playwright' | 'system' | 'sparticuz';
  executablePath: string;
  options: LaunchOptions;
}

const SYSTEM_CHROMIUM = '/usr/bin/chromium';
/** Quiet, reproducible runs: no update checks, no first-run UI, no background traffic. */
const QUIET_ARGS = ['--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'];

function desktopChromeOptions(executablePath: string): LaunchOptions {
  const isRoot = process.getuid?.() === 0;
  return { executablePath, headless: true, args: [...QUIET_ARGS, ...(isRoot ? ['--no-sandbox'] : [])] };
}

type Source = BrowserChoice['source'];
const SOURCES: Source[] = ['CHROME_PATH', 'playwright', 'system', 'sparticuz'];

/**
 * The first browser found, in the order above. EFFITUNE_E2E_BROWSER=<source> forces one source
 * (e.g. `sparticuz` to check the npm-package browser on a machine that also has Chromium).
 */
export async function chooseBrowser(): Promise<BrowserChoice> {
  const forced = process.env.EFFITUNE_E2E_BROWSER as Source | undefined;
  if (forced && !SOURCES.includes(forced)) throw new Error(`EFFITUNE_E2E_BROWSER must be one of ${SOURCES.join(', ')}, not "${forced}"`);
  const allowed = (source: Source) => !forced || forced === source;

  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv && allowed('CHROME_PATH')) {
    if (!fs.existsSync(fromEnv)) throw new Error(`CHROME_PATH is set to ${fromEnv}, which does not exist`);
    return { source: 'CHROME_PATH', executablePath: fromEnv, options: desktopChromeOptions(fromEnv) };
  }
  const playwrights = chromium.executablePath();
  if (allowed('playwright') && playwrights && fs.existsSync(playwrights)) {
    return { source: 'playwright', executablePath: playwrights, options: desktopChromeOptions(playwrights) };
  }
  if (allowed('system') && fs.existsSync(SYSTEM_CHROMIUM)) {
    return { source: 'system', executablePath: SYSTEM_CHROMIUM, options: desktopChromeOptions(SYSTEM_CHROMIUM) };
  }
  if (!allowed('sparticuz')) throw new Error(`EFFITUNE_E2E_BROWSER=${forced}, but that browser is not on this machine`);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error('no Chromium found for the e2e tests: set CHROME_PATH, or install Chromium (@sparticuz/chromium only covers Linux x64)');
  }
  const sparticuz = (await import('@sparticuz/chromium')).default;
  const executablePath = await sparticuz.executablePath();
  return { source: 'sparticuz', executablePath, options: { executablePath, args: [...sparticuz.args, ...QUIET_ARGS], headless: true } };
}

export async function launchBrowser(): Promise<Browser> {
  const choice = await chooseBrowser();
  try {
    return await chromium.launch(choice.options);
  } catch (err) {
    if (choice.source !== 'sparticuz') throw err;
    // A machine without NSS (libnss3, libnspr4) can use the copies the package ships for Amazon Linux.
    const libDir = await sparticuzLibraries();
    return chromium.launch({ ...choice.options, env: { ...process.env, LD_LIBRARY_PATH: [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } });
  }
}

async function sparticuzLibraries(): Promise<string> {
  // The package exports only its entry (build/index.js); bin/ sits beside build/.
  const packageDir = path.resolve(path.dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..');
  const { inflate } = await import('@sparticuz/chromium');
  const extracted = await inflate(path.join(packageDir, 'bin', 'al2023.tar.br'));
  return path.join(extracted, 'lib');
}

/** Where e2e specs put their screenshots. */
export const RESULTS_DIR = path.join(repoRoot, 'test-results');

/**
 * The set-up every e2e spec shares: an up-to-date UI (a spec run alone still needs it), the app in
 * browser mode and a Chromium, started before the spec's tests and stopped after them. Read
 * `session.app` / `session.browser` inside tests (they are set once beforeAll has run).
 */
export function useBrowserSession(): { app: RunningApp; browser: Browser } {
  const session = {} as { app: RunningApp; browser: Browser };
  beforeAll(async () => {
    await ensureRendererBuilt();
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    session.app = await startApp();
    session.browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await session.browser?.close();
    await session.app?.stop();
  });
  return session;
}
