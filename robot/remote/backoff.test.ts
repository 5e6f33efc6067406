import { describe, expect, it } from 'vitest';
import { reconnectDelay } from './backoff.js';

describe('reconnectDelay', () => {
  it('doubles per attempt up to the cap, jittered within the upper half', () => {
    expect(reconnectDelay(0, 500, 30_000, 0)).toBe(250);
    expect(reconnectDelay(0, 500, 30_000, 0.999)).toBe(500);
    expect(reconnectDelay(3, 500, 30_000, 0)).toBe(2_000);
    expect(reconnectDelay(20, 500, 30_000, 0.999)).toBe(29_985);
    expect(reconnectDelay(1_000, 500, 30_000, 0)).toBe(15_000);
  });
});
