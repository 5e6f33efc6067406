import { describe, it, expect } from 'vitest';
import { CronParseError, cronError, isValidTimeZone, nextFireTime, nextFireTimes, parseCron } from './cron.js';

const iso = (ds: Date[]): string[] => ds.map((d) => d.toISOString());
const fires = (cron: string, tz: string, after: string, n: number, policy: 'RunOnce' | 'Skip' = 'RunOnce'): string[] =>
  iso(nextFireTimes(cron, tz, new Date(after), n, policy));

describe('parseCron', () => {
  it('parses ranges, steps, lists, names and ?', () => {
    const c = parseCron('1-10/2,30 */6 ? JAN-MAR mon-fri');
    expect(c.seconds).toEqual([0]);
    expect(c.minutes).toEqual([1, 3, 5, 7, 9, 30]);
    expect(c.hours).toEqual([0, 6, 12, 18]);
    expect(c.months).toEqual([1, 2, 3]);
    expect([...c.daysOfWeek].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(c.domRestricted).toBe(false);
    expect(c.dowRestricted).toBe(true);
  });

  it('treats 7 as Sunday and reads six fields second first', () => {
    const c = parseCron('*/15 0 0 1 1 7');
    expect(c.seconds).toEqual([0, 15, 30, 45]);
    expect([...c.daysOfWeek]).toEqual([0]);
  });

  it.each([
    ['* * *', 'expression'],
    ['60 * * * *', 'minute'],
    ['* 24 * * *', 'hour'],
    ['* * 0 * *', 'day-of-month'],
    ['* * * FOO *', 'month'],
    ['* * * * 8', 'day-of-week'],
    ['*/0 * * * *', 'minute'],
    ['5-1 * * * *', 'minute'],
    ['61 * * * * *', 'second'],
    ['1,,2 * * * *', 'minute'],
  ])('rejects %s naming the %s field', (expr, field) => {
    try {
      parseCron(expr);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CronParseError);
      expect((err as CronParseError).field).toBe(field);
    }
    expect(cronError(expr)).toMatch(new RegExp(`^${field}:`));
  });

  it('accepts valid zones only', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('nextFireTimes in UTC', () => {
  it('handles seconds crons', () => {
    expect(fires('*/5 * * * * *', 'UTC', '2026-01-01T00:00:03Z', 3)).toEqual([
      '2026-01-01T00:00:05.000Z',
      '2026-01-01T00:00:10.000Z',
      '2026-01-01T00:00:15.000Z',
    ]);
  });

  it('is strictly after the given instant', () => {
    expect(nextFireTime('0 * * * *', 'UTC', new Date('2026-01-01T10:00:00Z'))?.toISOString()).toBe('2026-01-01T11:00:00.000Z');
  });

  it('finds Feb 29 by stepping fields', () => {
    expect(fires('0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual(['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z']);
  });

  it('gives up on impossible dates instead of looping', () => {
    expect(fires('0 0 30 2 *', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual([]);
  });

  it('ORs day-of-month and day-of-week when both are restricted', () => {
    // 2026-01-01 is a Thursday; Mondays plus the 1st of each month.
    expect(fires('0 0 1 * MON', 'UTC', '2026-01-01T00:00:00Z', 5)).toEqual([
      '2026-01-05T00:00:00.000Z',
      '2026-01-12T00:00:00.000Z',
      '2026-01-19T00:00:00.000Z',
      '2026-01-26T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
    ]);
  });

  it('ANDs them when day-of-month is *', () => {
    expect(fires('0 0 * * MON', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-05T00:00:00.000Z']);
  });
});

describe('nextFireTimes across DST in Europe/Berlin', () => {
  // 2026-03-29 02:00 CET jumps to 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST falls back to 02:00 CET (01:00Z).
  it('runs a gap time once at the end of the gap with RunOnce', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('skips a gap time with Skip', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 3, 'Skip')).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it.each(['RunOnce', 'Skip'] as const)('runs a repeated time once, at its first occurrence (%s)', (policy) => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 2, policy)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('runs the repeated hour once for an hourly cron', () => {
    expect(fires('0 * * * *', 'Europe/Berlin', '2026-10-24T22:30:00Z', 4)).toEqual([
      '2026-10-24T23:00:00.000Z',
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T03:00:00.000Z',
    ]);
  });

  it('does not fire the second occurrence when starting inside it', () => {
    expect(fires('45 2 * * *', 'Europe/Berlin', '2026-10-25T01:30:00Z', 1)).toEqual(['2026-10-26T01:45:00.000Z']);
  });

  it('keeps a seconds cron continuous through the spring gap', () => {
    expect(fires('*/20 * * * * *', 'Europe/Berlin', '2026-03-29T00:59:30Z', 4)).toEqual([
      '2026-03-29T00:59:40.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:00:20.000Z',
      '2026-03-29T01:00:40.000Z',
    ]);
  });
});

describe('nextFireTimes across DST in America/New_York', () => {
  // 2026-03-08 02:00 EST jumps to 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT falls back to 01:00 EST (06:00Z).
  it('runs 02:30 at 03:00 EDT on the spring-forward day with RunOnce', () => {
    expect(fires('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 2)).toEqual([
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  it('skips 02:30 on the spring-forward day with Skip', () => {
    expect(fires('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 1, 'Skip')).toEqual(['2026-03-09T06:30:00.000Z']);
  });

  it('runs 02:30 normally on the fall-back day (02:xx happens once)', () => {
    expect(fires('30 2 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2)).toEqual([
      '2026-11-01T07:30:00.000Z',
      '2026-11-02T07:30:00.000Z',
    ]);
  });

  it('runs the repeated 01:xx hour once', () => {
    expect(fires('0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', 3)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
      '2026-11-01T08:00:00.000Z',
    ]);
    expect(fires('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2, 'Skip')).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });
});
