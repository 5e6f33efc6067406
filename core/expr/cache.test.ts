import { describe, expect, it } from 'vitest';
import { LruCache } from './cache.js';
import { clearExpressionCache, compile, ExpressionError } from './index.js';

describe('LruCache', () => {
  it('evicts the least recently used entry', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toBe(2);
    c.set('a', 10);
    expect(c.get('a')).toBe(10);
    expect(c.size).toBe(2);
  });
});

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('expression cache', () => {
  it('parses an expression once and reuses the result', () => {
    clearExpressionCache();
    const first = thrown(() => compile('1 +'));
    expect(first).toBeInstanceOf(ExpressionError);
    // The cached parse result (here the error object itself) is reused, not recomputed.
    expect(thrown(() => compile('1 +'))).toBe(first);
    clearExpressionCache();
    expect(thrown(() => compile('1 +'))).not.toBe(first);
  });
});
