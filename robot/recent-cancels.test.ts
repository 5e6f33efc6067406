import { describe, expect, it } from 'vitest';
import { RecentCancels } from './recent-cancels.js';

describe('RecentCancels', () => {
  it('remembers a cancellation for a minute', () => {
    const r = new RecentCancels();
    r.add('a', 'stop', 1_000);
    expect(r.get('a', 1_000)).toBe('stop');
    expect(r.get('a', 60_999)).toBe('stop');
    expect(r.get('a', 61_000)).toBeUndefined();
    expect(r.get('b', 1_000)).toBeUndefined();
  });

  it('drops expired entries as new ones arrive', () => {
    const r = new RecentCancels();
    r.add('old', 'x', 0);
    r.add('new', 'y', 70_000);
    expect(r.get('old', 0)).toBeUndefined();
    expect(r.get('new', 70_000)).toBe('y');
  });
});
