/**
 * `npm start` where Electron cannot run (no binary here): browser mode serves the app. The script
 * is a composition root of its own (like bin/effitune.mjs), so it must hand the CLI its HTTP door;
 * this runs the real script and loads the page and an API call through the printed URL.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../fixtures/temp';

const root = path.resolve(__dirname, '../..');
const dir = makeTempDir('npm-start');

afterAll(() => removeDir(dir));

describe('npm start', () => {
  it('falls back to browser mode and serves the app and its API at the printed URL', { timeout: 240_000 }, async () => {
    const child = spawn(process.execPath, ['scripts/start.mjs', '--browser', '--no-open', '--port', '0'], { cwd: root, env: { ...process.env, EFFITUNE_HOME: path.join(dir, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const found = /https?:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(output);
          if (found) {
            clearInterval(timer);
            resolve(found[0]);
          }
        }, 100);
        void exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`npm start exited (${code}) before serving:\n${output}`));
        });
      });
      expect(output).toContain('Starting Effitune in browser mode');
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<script[^>]+src=/);
      const { origin, searchParams } = new URL(url);
      const api = await fetch(`${origin}/api/call/project.recent`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${searchParams.get('token')}` }, body: '{}' });
      expect(api.status, await api.clone().text()).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
