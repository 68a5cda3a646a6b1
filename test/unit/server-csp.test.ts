/**
 * Browser mode's Content-Security-Policy (main/server/security.ts): the page may open a WebSocket
 * to the server that served it and to nothing else on the machine, and every response of a
 * running server carries the policy for its own port.
 */
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../main/server/security';
import { startServer } from '../../main/server/server';
import type { DoorService } from '../../main/service/door-service';
import { makeTempDir, removeDir } from '../fixtures/temp';

function directives(policy: string): Map<string, string[]> {
  return new Map(policy.split(';').map((part) => {
    const [name, ...sources] = part.trim().split(/\s+/);
    return [name, sources] as const;
  }));
}

describe('contentSecurityPolicy', () => {
  it('connects only to its own origin and its own port', () => {
    const policy = directives(contentSecurityPolicy(4321));
    expect(policy.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:4321', 'ws://localhost:4321']);
    expect(policy.get('default-src')).toEqual(["'self'"]);
    expect(policy.get('object-src')).toEqual(["'none'"]);
    expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
    for (const sources of policy.values()) for (const source of sources) expect(source, source).not.toMatch(/\*/);
  });

  it('without a port to name, allows no WebSocket at all', () => {
    for (const port of [0, -1, 70000, Number.NaN]) expect(directives(contentSecurityPolicy(port)).get('connect-src'), String(port)).toEqual(["'self'"]);
  });
});

describe('a running server', () => {
  it('sends the policy of its own port on pages, API errors and refusals alike', async () => {
    const dir = makeTempDir('server-csp');
    const service: DoorService = {
      call: async () => ({}),
      onEvent: () => () => undefined,
      thumbnail: () => null,
      fullImage: async () => ({ data: Buffer.alloc(0), contentType: 'image/png' }),
    };
    const server = await startServer({ service, staticDir: dir, token: 'test-token' });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      for (const res of [await fetch(`${base}/`), await fetch(`${base}/api/call/app.info`, { method: 'POST' }), await fetch(`${base}/media/thumb?id=1`)]) {
        const policy = directives(res.headers.get('content-security-policy') ?? '');
        expect(policy.get('connect-src')).toEqual(["'self'", `ws://127.0.0.1:${server.port}`, `ws://localhost:${server.port}`]);
      }
    } finally {
      await server.close();
      removeDir(dir);
    }
  });
});
