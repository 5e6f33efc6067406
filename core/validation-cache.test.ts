import { describe, expect, it } from 'vitest';
import { ValidationCache } from './validation-cache.js';

const spec = (message: string) => ({
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'say', type: 'log', params: { message } },
  ],
  edges: [{ from: 'start', to: 'say' }],
});

describe('ValidationCache', () => {
  it('returns the cached result for an equal spec, with or without a hash', () => {
    const cache = new ValidationCache();
    const first = cache.validate(spec('hi'), 'sha256:1');
    expect(first.ok).toBe(true);
    expect(cache.validate(spec('hi'), 'sha256:1')).toBe(first);
    const plain = cache.validate(spec('hi'));
    expect(cache.validate(spec('hi'))).toBe(plain);
  });

  it('never returns another spec for a reused or forged hash', () => {
    const cache = new ValidationCache();
    cache.validate(spec('hi'), 'sha256:same');
    const other = cache.validate(spec('bye'), 'sha256:same');
    expect(other.workflow?.nodes[1]?.params.message).toBe('bye');
    const broken = cache.validate({ nodes: [{ id: 'x', type: 'nope' }] }, 'sha256:same');
    expect(broken.ok).toBe(false);
  });
});
