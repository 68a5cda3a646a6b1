/**
 * Paths the server sends the renderer, shown as captions: a POSIX name that is not UTF-8 arrives
 * with a backslash escape (`caf\xE9.png`) and must show whole, not as "xE9.png" (the grid tile, the
 * evaluation gallery and assist captions use baseName); Windows paths still split at backslashes.
 */
import { describe, expect, it } from 'vitest';
import { baseName, parentDir } from '../../renderer/src/paths';

describe('renderer paths', () => {
  it('splits a POSIX path at slashes only: a backslash there is part of the name', () => {
    expect(baseName('/tmp/imgs/cats/caf\\xE9.png')).toBe('caf\\xE9.png');
    expect(baseName('/tmp/imgs/a\\b/c.png')).toBe('c.png');
    expect(parentDir('/tmp/imgs/cats/caf\\xE9.png')).toBe('/tmp/imgs/cats');
    expect(parentDir('/labels.csv')).toBe('/');
  });

  it('splits Windows and relative paths at either separator', () => {
    expect(baseName('C:\\Users\\me\\Pictures\\cat.png')).toBe('cat.png');
    expect(baseName('\\\\server\\share\\dog.jpg')).toBe('dog.jpg');
    expect(baseName('C:/Users/me/cat.png')).toBe('cat.png');
    expect(baseName('cats\\cat.png')).toBe('cat.png');
    expect(parentDir('C:\\Users\\me\\labels.csv')).toBe('C:\\Users\\me');
    expect(parentDir('labels.csv')).toBe('');
  });
});
