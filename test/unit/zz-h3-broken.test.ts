import { test } from 'vitest'; import './does-not-exist-h3'; test('x', () => {});
