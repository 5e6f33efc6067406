import { describe, expect, it } from 'vitest';
import { runName } from '../schedules/plan.js';
import { decideSchedule, MAX_REQUEUE_MS, type ScheduleFacts, type ScheduleRun } from './schedule-decide.js';

const created = new Date('2026-03-01T10:00:00Z');
const template = { spec: { workflowRef: { name: 'wf' }, robotSelector: { name: 'bot' } } };
const spec = (extra: Record<string, unknown> = {}) => ({ cron: '*/10 * * * * *', jobTemplate: template, ...extra });
const at = (s: string) => new Date(`2026-03-01T10:${s}Z`);

function facts(over: Partial<ScheduleFacts> = {}): ScheduleFacts {
  return { name: 'nightly', generation: 1, spec: spec(), creationTimestamp: created, runs: [], now: at('00:05'), ...over };
}

function run(tick: string, phase?: ScheduleRun['phase'], extra: Partial<ScheduleRun> = {}): ScheduleRun {
  const scheduledTime = at(tick);
  return { name: runName('nightly', scheduledTime), uid: `uid-${tick}`, scheduledTime, deleting: false, ...(phase ? { phase } : {}), ...extra };
}

describe('decideSchedule', () => {
  it('waits for the first tick after creation without claiming a run happened', () => {
    const d = decideSchedule(facts());
    expect(d.create).toEqual([]);
    expect(d.status.lastScheduleTime).toBeUndefined();
    expect(d.status.nextScheduleTime).toBe(at('00:10').toISOString());
    expect(d.requeueAfterMs).toBe(5000);
    expect(d.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Scheduled' });
  });

  it('creates the due tick under its deterministic name and lists it as active', () => {
    const d = decideSchedule(facts({ now: at('00:10.020') }));
    expect(d.create).toEqual([{ scheduledTime: at('00:10'), name: 'nightly-' + at('00:10').getTime() / 1000 }]);
    expect(d.status.lastScheduleTime).toBe(at('00:10').toISOString());
    expect(d.status.active).toEqual([{ name: d.create[0]?.name }]);
    expect(d.advanced).toBe(true);
  });

  it('never creates a tick again when status lags behind a run that exists (or existed and was remembered)', () => {
    const lagging = { status: { lastScheduleTime: at('00:00').toISOString() }, now: at('00:10.5') };
    expect(decideSchedule(facts({ ...lagging, runs: [run('00:10', 'succeeded')] })).create).toEqual([]);
    expect(decideSchedule(facts({ ...lagging, rememberedLastScheduleTime: at('00:10') })).create).toEqual([]);
    expect(decideSchedule(facts(lagging)).create).toHaveLength(1);
  });

  it('postpones a due run while one is active under Forbid, without advancing lastScheduleTime', () => {
    const d = decideSchedule(
      facts({ spec: spec({ concurrencyPolicy: 'Forbid' }), status: { lastScheduleTime: at('00:00').toISOString() }, runs: [run('00:00', 'running')], now: at('00:10.1') }),
    );
    expect(d.create).toEqual([]);
    expect(d.advanced).toBe(false);
    expect(d.status.lastScheduleTime).toBe(at('00:00').toISOString());
    expect(d.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'RunPostponed' });
    // A finished run no longer blocks it.
    const after = decideSchedule(
      facts({ spec: spec({ concurrencyPolicy: 'Forbid' }), status: { lastScheduleTime: at('00:00').toISOString() }, runs: [run('00:00', 'succeeded')], now: at('00:12') }),
    );
    expect(after.create.map((r) => r.scheduledTime)).toEqual([at('00:10')]);
  });

  it('cancels the active run and starts the new one under Replace', () => {
    const d = decideSchedule(
      facts({ spec: spec({ concurrencyPolicy: 'Replace' }), status: { lastScheduleTime: at('00:00').toISOString() }, runs: [run('00:00', 'running')], now: at('00:10.1') }),
    );
    expect(d.cancel).toEqual([run('00:00').name]);
    expect(d.create).toHaveLength(1);
    expect(d.status.active).toEqual([{ name: d.create[0]?.name }]);
  });

  it('keeps as many finished runs as the history limits say, newest first', () => {
    const runs = [run('00:00', 'succeeded'), run('00:10', 'succeeded'), run('00:20', 'failed'), run('00:30', 'succeeded'), run('00:40', 'cancelled'), run('00:50', 'succeeded')];
    const d = decideSchedule(
      facts({ spec: spec({ successfulRunsHistoryLimit: 2, failedRunsHistoryLimit: 1 }), status: { lastScheduleTime: at('00:50').toISOString() }, runs, now: at('00:55') }),
    );
    expect(d.prune.sort()).toEqual([run('00:00').name, run('00:10').name, run('00:20').name].sort());
  });

  it('reports lastSuccessfulTime from the newest succeeded run', () => {
    const runs = [run('00:00', 'succeeded', { completionTime: at('00:03') }), run('00:10', 'failed', { completionTime: at('00:14') })];
    const d = decideSchedule(facts({ status: { lastScheduleTime: at('00:10').toISOString() }, runs, now: at('00:15') }));
    expect(d.status.lastSuccessfulTime).toBe(at('00:03').toISOString());
    expect(d.status.active).toEqual([]);
  });

  it('stalls with the offending field named when the cron or time zone is invalid', () => {
    const bad = decideSchedule(facts({ spec: spec({ cron: '61 * * * *' }) }));
    const stalled = bad.status.conditions?.find((c) => c.type === 'Stalled');
    expect(stalled).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(stalled?.message).toMatch(/^spec\.cron: minute/);
    expect(bad.create).toEqual([]);
    expect(bad.requeueAfterMs).toBeUndefined();
    const zone = decideSchedule(facts({ spec: spec({ timeZone: 'Mars/Olympus' }) }));
    expect(zone.status.conditions?.find((c) => c.type === 'Stalled')?.message).toContain("spec.timeZone: unknown IANA time zone 'Mars/Olympus'");
  });

  it('starts nothing while suspended and shows no next run', () => {
    const d = decideSchedule(facts({ spec: spec({ suspend: true }), status: { lastScheduleTime: at('00:00').toISOString() }, now: at('00:30.5') }));
    expect(d.create).toEqual([]);
    expect(d.status.nextScheduleTime).toBeUndefined();
    expect(d.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Suspended' });
  });

  it('looks again at least once a minute even for a daily schedule', () => {
    const d = decideSchedule(facts({ spec: spec({ cron: '0 3 * * *' }) }));
    expect(d.requeueAfterMs).toBe(MAX_REQUEUE_MS);
  });

  it('does not count a run being deleted as active', () => {
    const d = decideSchedule(
      facts({ spec: spec({ concurrencyPolicy: 'Forbid' }), status: { lastScheduleTime: at('00:00').toISOString() }, runs: [run('00:00', 'running', { deleting: true })], now: at('00:10.1') }),
    );
    expect(d.create).toHaveLength(1);
  });
});
