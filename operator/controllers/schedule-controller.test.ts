/**
 * The Schedule controller on a real kube-apiserver. Two controllers with their own caches run at
 * once and no leader election: the worst case of a failover, where both reconcile every tick.
 * No Job controller runs, so runs stay active until the test writes their phase.
 */
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../../core/meta.js';
import { startClusterWithCrds, type TestCluster } from '../../test/helpers/cluster.js';
import { eventually } from '../../test/helpers/dataplane.js';
import { SharedInformers } from '../runtime/shared-informers.js';
import { ScheduleController } from './schedule-controller.js';
import { SCHEDULE_LABEL, SCHEDULED_TIME_ANNOTATION } from './schedule-decide.js';

let tc: TestCluster;
let custom: k8s.CustomObjectsApi;
const replicas: { informers: SharedInformers; controller: ScheduleController; registry: Registry }[] = [];
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const ref = (plural: string, name: string) => ({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural, name });

interface Stored {
  metadata: { name: string; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  status?: {
    lastScheduleTime?: string;
    nextScheduleTime?: string;
    active?: { name: string; uid?: string }[];
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

const template = { spec: { workflowRef: { name: 'wf' }, robotSelector: { name: 'bot' } } };

async function createSchedule(name: string, spec: Record<string, unknown>): Promise<void> {
  await custom.createNamespacedCustomObject({ ...ref('schedules', name), body: { apiVersion: API_GROUP_VERSION, kind: 'Schedule', metadata: { name }, spec: { jobTemplate: template, ...spec } } });
}
const schedule = async (name: string) => (await custom.getNamespacedCustomObject(ref('schedules', name))) as Stored;
async function runsOf(name: string): Promise<Stored[]> {
  const list = (await custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'jobs', labelSelector: `${SCHEDULE_LABEL}=${name}` })) as { items: Stored[] };
  return list.items;
}
const setPhase = (job: string, phase: string) =>
  custom.patchNamespacedCustomObjectStatus({ ...ref('jobs', job), body: { status: { phase, completionTime: new Date().toISOString() } } }, mergePatch);

async function createdCount(name: string): Promise<number> {
  let total = 0;
  for (const r of replicas) {
    const metric = await r.registry.getSingleMetric('rpa_schedule_runs_total')?.get();
    total += metric?.values.find((v) => v.labels.schedule === name && v.labels.result === 'created')?.value ?? 0;
  }
  return total;
}

beforeAll(async () => {
  tc = await startClusterWithCrds();
  custom = tc.kc.makeApiClient(k8s.CustomObjectsApi);
  for (let i = 0; i < 2; i++) {
    const informers = new SharedInformers(tc.kc);
    const registry = new Registry();
    const controller = new ScheduleController(tc.kc, informers, { registry });
    await informers.start();
    controller.start();
    replicas.push({ informers, controller, registry });
  }
}, 900_000);

afterAll(async () => {
  for (const r of replicas) {
    await r.controller.stop();
    await r.informers.stop();
  }
  await tc?.stop();
});

describe('ScheduleController on a real kube-apiserver', () => {
  it('creates exactly one Job per tick with two controllers racing, owned and annotated, and stops when suspended', { timeout: 60_000 }, async () => {
    await createSchedule('every2s', { cron: '*/2 * * * * *', successfulRunsHistoryLimit: 100 });
    await eventually(async () => ((await runsOf('every2s')).length >= 4 ? true : undefined), 20_000, 'four runs');
    await custom.patchNamespacedCustomObject({ ...ref('schedules', 'every2s'), body: { spec: { suspend: true } } }, mergePatch);
    const suspended = await eventually(async () => {
      const s = await schedule('every2s');
      return s.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'Suspended' ? s : undefined;
    }, 10_000, 'suspended');
    expect(suspended.status?.nextScheduleTime).toBeUndefined();
    const settled = (await runsOf('every2s')).length;
    await new Promise((r) => setTimeout(r, 4_500));
    const runs = await runsOf('every2s');
    expect(runs.length).toBe(settled);

    const ticks = runs.map((j) => Date.parse(j.metadata.annotations?.[SCHEDULED_TIME_ANNOTATION] ?? '')).sort((a, b) => a - b);
    expect(new Set(ticks).size).toBe(runs.length);
    for (const t of ticks) expect(t % 2000).toBe(0);
    // Consecutive: no tick skipped between the first and the last run.
    for (let i = 1; i < ticks.length; i++) expect((ticks[i] ?? 0) - (ticks[i - 1] ?? 0)).toBe(2000);
    for (const j of runs) expect(j.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Schedule', name: 'every2s' });
    // Both controllers tried every tick; the API server let exactly one of them create it.
    expect(await createdCount('every2s')).toBe(runs.length);
    const final = await schedule('every2s');
    expect(final.status?.active?.map((a) => a.name).sort()).toEqual(runs.map((r) => r.metadata.name).sort());
    // Suspended ticks count as taken, so resuming does not replay them.
    expect(Date.parse(final.status?.lastScheduleTime ?? '')).toBeGreaterThanOrEqual(ticks.at(-1) ?? 0);
  });

  it('holds the next run back under Forbid until the active one finishes', { timeout: 60_000 }, async () => {
    await createSchedule('forbid', { cron: '*/2 * * * * *', concurrencyPolicy: 'Forbid' });
    const [first] = await eventually(async () => {
      const runs = await runsOf('forbid');
      return runs.length > 0 ? runs : undefined;
    }, 10_000, 'first run');
    const postponed = await eventually(async () => {
      const s = await schedule('forbid');
      return s.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'RunPostponed' ? s : undefined;
    }, 10_000, 'postponed');
    expect(postponed.status?.active?.map((a) => a.name)).toEqual([first?.metadata.name]);
    expect((await runsOf('forbid')).length).toBe(1);

    await setPhase(first?.metadata.name ?? '', 'succeeded');
    const runs = await eventually(async () => {
      const r = await runsOf('forbid');
      return r.length === 2 ? r : undefined;
    }, 10_000, 'second run after the first finished');
    expect(runs.map((r) => r.metadata.name)).toContain(first?.metadata.name);
  });

  it('replaces the active run under Replace', { timeout: 60_000 }, async () => {
    await createSchedule('replace', { cron: '*/2 * * * * *', concurrencyPolicy: 'Replace' });
    const first = await eventually(async () => (await runsOf('replace'))[0], 10_000, 'first run');
    await eventually(async () => {
      const runs = await runsOf('replace');
      return runs.length >= 1 && !runs.some((r) => r.metadata.name === first.metadata.name) ? true : undefined;
    }, 10_000, 'first run replaced');
    await custom.patchNamespacedCustomObject({ ...ref('schedules', 'replace'), body: { spec: { suspend: true } } }, mergePatch);
  });

  it('keeps successful runs down to the history limit, oldest deleted first', { timeout: 60_000 }, async () => {
    await createSchedule('history', { cron: '*/2 * * * * *', successfulRunsHistoryLimit: 2, failedRunsHistoryLimit: 0 });
    const finished = new Set<string>();
    // Finish every run as it appears; the history must never grow beyond two.
    await eventually(async () => {
      for (const r of await runsOf('history')) {
        if (!finished.has(r.metadata.name)) await setPhase(r.metadata.name, finished.size === 2 ? 'failed' : 'succeeded');
        finished.add(r.metadata.name);
      }
      return finished.size >= 6 ? true : undefined;
    }, 30_000, 'six finished runs');
    await custom.patchNamespacedCustomObject({ ...ref('schedules', 'history'), body: { spec: { suspend: true } } }, mergePatch);
    await eventually(async () => ((await schedule('history')).status?.conditions?.find((c) => c.reason === 'Suspended') ? true : undefined), 10_000, 'suspended');
    // Runs created between the last look and the suspension finish too.
    for (const r of await runsOf('history')) {
      if (!finished.has(r.metadata.name)) await setPhase(r.metadata.name, 'succeeded');
      finished.add(r.metadata.name);
    }
    const left = await eventually(async () => {
      const r = await runsOf('history');
      return r.length <= 2 ? r : undefined;
    }, 10_000, 'history pruned');
    const newest = [...finished].sort().slice(-2);
    expect(left.map((r) => r.metadata.name).sort()).toEqual(newest);
  });

  it('stalls a Schedule with an invalid cron and names the field', async () => {
    await createSchedule('broken', { cron: '0 99 * * *' });
    const s = await eventually(async () => {
      const got = await schedule('broken');
      return got.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True') ? got : undefined;
    }, 10_000, 'stalled');
    expect(s.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ reason: 'InvalidSpec' });
    expect(s.status?.conditions?.find((c) => c.type === 'Stalled')?.message).toMatch(/^spec\.cron: hour/);
  });

  it('lists the next fire time of each Schedule whose runs a Robot can take, for warm-up', async () => {
    const first = replicas[0];
    if (!first) throw new Error('no controller');
    const jobTemplate = (robotSelector: unknown) => ({ spec: { workflowRef: { name: 'wf' }, robotSelector } });
    await createSchedule('warm', { cron: '0 0 3 * * *', timeZone: 'Europe/Berlin', jobTemplate: jobTemplate({ name: 'warmbot' }) });
    await createSchedule('warm-caps', { cron: '0 30 4 * * *', jobTemplate: jobTemplate({ capabilities: ['excel'] }) });
    const office = { name: 'warmbot', capabilities: ['excel', 'http'] };
    const fires = await eventually(async () => {
      const f = first.controller.upcomingRuns('default', office);
      return f.length === 2 ? f : undefined;
    }, 10_000, 'both schedules cached');
    // 03:00 in Berlin is 01:00 or 02:00 UTC depending on DST; 04:30 UTC for the other.
    const times = fires.map((d) => `${d.getUTCHours()}:${d.getUTCMinutes()}`);
    expect(times).toContain('4:30');
    expect(times.some((t) => t === '1:0' || t === '2:0')).toBe(true);
    expect(fires[0]?.getTime()).toBeLessThanOrEqual(fires[1]?.getTime() ?? 0);
    expect(first.controller.upcomingRuns('default', { name: 'warmbot', capabilities: [] })).toHaveLength(1);
    expect(first.controller.upcomingRuns('default', { name: 'nobody', capabilities: ['http'] })).toEqual([]);
  });
});
