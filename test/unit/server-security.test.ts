/** The small guards of browser mode, case by case. */
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { hostAllowed, originAllowed, tokenMatches } from '../../main/server/security';
import { resolveStaticPath } from '../../main/service/static-files';
import { httpStatusOf } from '../../main/server/server';

describe('hostAllowed', () => {
  test('loopback names with our port (or none) pass', () => {
    for (const host of ['127.0.0.1:8123', 'localhost:8123', 'LOCALHOST:8123', '[::1]:8123', '127.0.0.1']) expect(hostAllowed(host, 8123), host).toBe(true);
  });
  test('other names, other ports and junk fail', () => {
    for (const host of [undefined, '', 'evil.example:8123', '127.0.0.1:9999', '127.0.0.1.evil.example:8123', 'localhost.:8123', '10.0.0.1:8123', 'a:b:c']) {
      expect(hostAllowed(host, 8123), String(host)).toBe(false);
    }
  });
});

describe('originAllowed', () => {
  test('no Origin (curl, same-origin GET) or our own origin pass; anything else fails', () => {
    expect(originAllowed(undefined, 5000)).toBe(true);
    expect(originAllowed('http://127.0.0.1:5000', 5000)).toBe(true);
    expect(originAllowed('http://localhost:5000', 5000)).toBe(true);
    expect(originAllowed('http://evil.example', 5000)).toBe(false);
    expect(originAllowed('null', 5000)).toBe(false);
    expect(originAllowed('https://127.0.0.1:5000', 5000)).toBe(false);
    expect(originAllowed('http://127.0.0.1:5001', 5000)).toBe(false);
  });
});

describe('tokenMatches', () => {
  test('only the exact token matches', () => {
    expect(tokenMatches('abc123', 'abc123')).toBe(true);
    expect(tokenMatches('abc123', 'abc124')).toBe(false);
    expect(tokenMatches('abc123', 'abc12')).toBe(false);
    expect(tokenMatches('abc123', null)).toBe(false);
    expect(tokenMatches('abc123', '')).toBe(false);
  });
});

describe('resolveStaticPath', () => {
  const root = path.resolve('/srv/ui');
  test('paths stay inside the root', () => {
    expect(resolveStaticPath(root, '/')).toBe(root);
    expect(resolveStaticPath(root, '/assets/a.js')).toBe(path.join(root, 'assets/a.js'));
    expect(resolveStaticPath(root, '/../../etc/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(resolveStaticPath(root, '/%2e%2e/%2e%2e/etc/passwd')).toBe(path.join(root, 'etc/passwd'));
  });
  test('malformed, NUL and backslash paths are refused', () => {
    expect(resolveStaticPath(root, '/%E0%A4%A')).toBeNull();
    expect(resolveStaticPath(root, '/a%00.js')).toBeNull();
    expect(resolveStaticPath(root, '/..%5c..%5cwin.ini')).toBeNull();
  });
});

describe('httpStatusOf', () => {
  test('error codes become HTTP statuses', () => {
    expect(httpStatusOf('invalid_input')).toBe(400);
    expect(httpStatusOf('not_a_project')).toBe(400);
    expect(httpStatusOf('not_found')).toBe(404);
    expect(httpStatusOf('already_exists')).toBe(409);
    expect(httpStatusOf('busy')).toBe(409);
    expect(httpStatusOf('io_error')).toBe(500);
    expect(httpStatusOf('internal')).toBe(500);
  });
});
