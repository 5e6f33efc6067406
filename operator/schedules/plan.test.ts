import { describe, it, expect } from 'vitest';
import { planSchedule, runName, type PlanInput, type SchedulePlanSpec } from './plan.js';

const spec = (over: Partial<SchedulePlanSpec> = {}): SchedulePlanSpec => ({
  cron: '*/10 * * * *',
  timeZone: 'UTC',
  suspend: false,
  concurrencyPolicy: 'Allow',
  dstPolicy: 'RunOnce',
  maxMissedRuns: 1,
  ...over,
});
const t = (s: string): Date => new Date(`2026-05-01T${s}Z`);
const input = (over: Partial<PlanInput> = {}): PlanInput => ({
  name: 'nightly',
  spec: spec(),
  lastScheduleTime: t('10:00:00'),
  activeRuns: [],
  now: t('10:10:05'),
  ...over,
});
const startTimes = (p: ReturnType<typeof planSchedule>): string[] => p.runsToStart.map((r) => r.scheduledTime.toISOString());

describe('planSchedule', () => {
  it('starts the due tick with a deterministic name and requeues for the next', () => {
    const p = planSchedule(input());
    expect(startTimes(p)).toEqual(['2026-05-01T10:10:00.000Z']);
    expect(p.runsToStart[0]?.name).toBe(`nightly-${Date.parse('2026-05-01T10:10:00Z') / 1000}`);
    expect(p.nextScheduleTime?.toISOString()).toBe('2026-05-01T10:20:00.000Z');
    expect(p.requeueAfterMs).toBe(9 * 60_000 + 55_000);
    expect(p.lastScheduleTime?.toISOString()).toBe('2026-05-01T10:10:00.000Z');
  });

  it('produces the same plan (and names) when re-run by another leader', () => {
    expect(planSchedule(input())).toEqual(planSchedule(input()));
  });

  it('starts nothing before the tick', () => {
    const p = planSchedule(input({ now: t('10:09:59') }));
    expect(p.runsToStart).toEqual([]);
    expect(p.skippedBecause).toEqual([]);
  });

  it('starts nothing when it never ran (the first run is the next tick)', () => {
    const p = planSchedule(input({ lastScheduleTime: undefined }));
    expect(p.runsToStart).toEqual([]);
    expect(p.nextScheduleTime?.toISOString()).toBe('2026-05-01T10:20:00.000Z');
  });

  it('runs missed ticks once, not N times, by default', () => {
    const p = planSchedule(input({ now: t('11:05:00') }));
    expect(startTimes(p)).toEqual(['2026-05-01T11:00:00.000Z']);
    expect(p.missedRuns).toBe(5);
    expect(p.skippedBecause).toEqual(['MissedRunsCapped']);
  });

  it('caps backfill at maxMissedRuns', () => {
    const p = planSchedule(input({ spec: spec({ maxMissedRuns: 3 }), now: t('11:05:00') }));
    expect(startTimes(p)).toEqual(['2026-05-01T10:40:00.000Z', '2026-05-01T10:50:00.000Z', '2026-05-01T11:00:00.000Z']);
    expect(p.missedRuns).toBe(3);
  });

  it('drops ticks older than startingDeadlineSeconds', () => {
    const p = planSchedule(input({ spec: spec({ startingDeadlineSeconds: 60, maxMissedRuns: 10 }), now: t('11:05:00') }));
    expect(p.runsToStart).toEqual([]);
    expect(p.skippedBecause).toEqual(['StartingDeadlineExceeded']);
    expect(p.missedRuns).toBe(6);
  });

  it('keeps ticks within startingDeadlineSeconds', () => {
    const p = planSchedule(input({ spec: spec({ startingDeadlineSeconds: 900, maxMissedRuns: 10 }), now: t('11:05:00') }));
    expect(startTimes(p)).toEqual(['2026-05-01T10:50:00.000Z', '2026-05-01T11:00:00.000Z']);
    expect(p.skippedBecause).toEqual(['StartingDeadlineExceeded']);
  });

  it('starts alongside active runs with Allow', () => {
    const p = planSchedule(input({ activeRuns: [{ name: 'nightly-1' }] }));
    expect(p.runsToStart).toHaveLength(1);
    expect(p.runsToCancel).toEqual([]);
  });

  it('postpones with Forbid while a run is active', () => {
    const p = planSchedule(input({ spec: spec({ concurrencyPolicy: 'Forbid' }), activeRuns: [{ name: 'nightly-1' }] }));
    expect(p.runsToStart).toEqual([]);
    expect(p.skippedBecause).toEqual(['ConcurrencyForbid']);
    expect(p.lastScheduleTime?.toISOString()).toBe('2026-05-01T10:00:00.000Z');
  });

  it('starts with Forbid when nothing is active, newest tick only', () => {
    const p = planSchedule(input({ spec: spec({ concurrencyPolicy: 'Forbid', maxMissedRuns: 3 }), now: t('11:05:00') }));
    expect(startTimes(p)).toEqual(['2026-05-01T11:00:00.000Z']);
  });

  it('cancels active runs with Replace', () => {
    const p = planSchedule(input({ spec: spec({ concurrencyPolicy: 'Replace' }), activeRuns: [{ name: 'a' }, { name: 'b' }] }));
    expect(p.runsToCancel).toEqual(['a', 'b']);
    expect(startTimes(p)).toEqual(['2026-05-01T10:10:00.000Z']);
  });

  it('starts nothing when suspended and does not replay the suspension later', () => {
    const p = planSchedule(input({ spec: spec({ suspend: true }), now: t('11:05:00') }));
    expect(p.runsToStart).toEqual([]);
    expect(p.skippedBecause[0]).toBe('Suspended');
    expect(p.lastScheduleTime?.toISOString()).toBe('2026-05-01T11:00:00.000Z');
  });

  it('stays fast and exact for the newest ticks after a long outage of a seconds cron', () => {
    const p = planSchedule(
      input({ spec: spec({ cron: '* * * * * *', maxMissedRuns: 2 }), lastScheduleTime: t('00:00:00'), now: t('10:00:00') }),
    );
    expect(startTimes(p)).toEqual(['2026-05-01T09:59:59.000Z', '2026-05-01T10:00:00.000Z']);
    expect(p.missedRuns).toBeGreaterThan(10_000);
  });
});

describe('runName', () => {
  it('truncates long schedule names and stays a valid name', () => {
    const name = runName(`${'a'.repeat(51)}-bbbbbbbbbbb`, new Date(0));
    expect(name).toBe(`${'a'.repeat(51)}-0`);
    expect(name.length).toBeLessThanOrEqual(63);
  });
});
