import { describe, it, expect } from 'vitest';
import { gapEnd, instantsForWall, isValidTimeZone, toWallMs } from './zone.js';

const wall = (s: string): number => Date.parse(`${s}Z`);

describe('zone conversions', () => {
  it('reads wall-clock time in a zone', () => {
    expect(toWallMs(Date.parse('2026-07-01T12:00:00Z'), 'Europe/Berlin')).toBe(wall('2026-07-01T14:00:00'));
    expect(toWallMs(Date.parse('2026-01-01T12:00:00Z'), 'America/New_York')).toBe(wall('2026-01-01T07:00:00'));
  });
  it('finds no instant for a wall time in the spring gap, and where the gap ends', () => {
    expect(instantsForWall(wall('2026-03-29T02:30:00'), 'Europe/Berlin')).toEqual([]);
    expect(new Date(gapEnd(wall('2026-03-29T02:30:00'), 'Europe/Berlin')).toISOString()).toBe('2026-03-29T01:00:00.000Z');
  });
  it('finds both instants of a repeated wall time, earliest first', () => {
    expect(instantsForWall(wall('2026-11-01T01:30:00'), 'America/New_York').map((t) => new Date(t).toISOString())).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
  });
  it('validates zone names', () => {
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Not/AZone')).toBe(false);
  });
});
