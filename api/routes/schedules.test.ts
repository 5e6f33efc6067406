import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleResource } from '../../core/api-resources.js';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../../core/meta.js';
import { auth, testApi } from '../../test/helpers/api.js';
import { startClusterWithCrds, type TestCluster } from '../../test/helpers/cluster.js';
import { testDataPlane } from '../../test/helpers/dataplane.js';
import { robotsRoutes } from './robots.js';
import { schedulesRoutes } from './schedules.js';
import { workflowsRoutes } from './workflows.js';

const routes = [workflowsRoutes, robotsRoutes, schedulesRoutes];
let tc: TestCluster;
let custom: k8s.CustomObjectsApi;
let api: Awaited<ReturnType<typeof testApi>>;
let noCluster: Awaited<ReturnType<typeof testApi>>;

const base = '/api/v1/namespaces/default/schedules';
const jobTemplate = { spec: { workflowRef: { name: 'hello' }, robotSelector: { name: 'bot' } } };
/** Daily at 02:30, a wall time the spring-forward change in Europe/Berlin skips and the fall-back one repeats. */
const nightly = { cron: '30 2 * * *', timeZone: 'Europe/Berlin', jobTemplate };

beforeAll(async () => {
  tc = await startClusterWithCrds();
  custom = tc.kc.makeApiClient(k8s.CustomObjectsApi);
  const settings = testDataPlane();
  api = await testApi(settings, { kc: tc.kc, options: { routes } });
  noCluster = await testApi(settings, { options: { routes } });
}, 900_000);
afterAll(async () => {
  await api?.close();
  await noCluster?.close();
  await tc?.stop();
});

type Key = Parameters<typeof auth>[0];
type ErrorJson = { error: { code: string; message: string; details?: { problems?: string[] } } };
const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key: Key | undefined, payload?: object) =>
  api.app.inject({ method, url, headers: key ? auth(key) : {}, ...(payload ? { payload } : {}) });

describe('schedules API (real kube-apiserver)', () => {
  it('creates a Schedule (201) with the CRD defaults and its next five fire times, and refuses a second one of that name', async () => {
    const r = await call('POST', base, 'admin', { name: 'nightly', spec: nightly, metadata: { labels: { team: 'ops' } } });
    expect(r.statusCode, r.body).toBe(201);
    const s = r.json<ScheduleResource>();
    expect(s.metadata).toMatchObject({ name: 'nightly', namespace: 'default', labels: { team: 'ops' } });
    expect(s.spec).toMatchObject({ cron: '30 2 * * *', timeZone: 'Europe/Berlin', suspend: false, dstPolicy: 'RunOnce', concurrencyPolicy: 'Allow' });
    expect(s.nextFireTimes).toHaveLength(5);
    const times = s.nextFireTimes.map((t) => Date.parse(t));
    expect(times[0]).toBeGreaterThan(Date.now());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(s.problems).toBeUndefined();

    const again = await call('POST', base, 'admin', { name: 'nightly', spec: nightly });
    expect(again.statusCode).toBe(409);
    expect(again.json<ErrorJson>().error.code).toBe('conflict');
  });

  it('lists the next fire times across the DST changes of Europe/Berlin, by the dstPolicy', async () => {
    await call('POST', base, 'admin', { name: 'nightly-skip', spec: { ...nightly, dstPolicy: 'Skip' } });
    // 2027-03-28 02:30 does not exist in Berlin; 2027-10-31 02:30 happens twice.
    const spring = encodeURIComponent('2027-03-27T12:00:00Z');
    const runOnce = await call('GET', `${base}/nightly?next=3&after=${spring}`, 'viewer');
    expect(runOnce.statusCode, runOnce.body).toBe(200);
    // The skipped 02:30 runs once when the gap ends (03:00 CEST), then 02:30 CEST is 00:30 UTC.
    expect(runOnce.json<ScheduleResource>().nextFireTimes).toEqual(['2027-03-28T01:00:00.000Z', '2027-03-29T00:30:00.000Z', '2027-03-30T00:30:00.000Z']);
    const skip = await call('GET', `${base}/nightly-skip?next=2&after=${spring}`, 'viewer');
    expect(skip.json<ScheduleResource>().nextFireTimes).toEqual(['2027-03-29T00:30:00.000Z', '2027-03-30T00:30:00.000Z']);
    // The repeated 02:30 runs once, at its first (CEST) occurrence; then 02:30 CET is 01:30 UTC.
    const autumn = await call('GET', `${base}/nightly?next=2&after=${encodeURIComponent('2027-10-30T12:00:00+00:00')}`, 'viewer');
    expect(autumn.json<ScheduleResource>().nextFireTimes).toEqual(['2027-10-31T00:30:00.000Z', '2027-11-01T01:30:00.000Z']);

    const list = await call('GET', `${base}?next=1&after=${spring}`, 'viewer');
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: ScheduleResource[] }>().items.map((i) => [i.metadata.name, i.nextFireTimes])).toEqual([
      ['nightly', ['2027-03-28T01:00:00.000Z']],
      ['nightly-skip', ['2027-03-29T00:30:00.000Z']],
    ]);
    const many = await call('GET', `${base}/nightly?next=50`, 'viewer');
    expect(many.json<ScheduleResource>().nextFireTimes).toHaveLength(50);
    const tooMany = await call('GET', `${base}/nightly?next=51`, 'viewer');
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json<ErrorJson>().error.message).toMatch(/^querystring\.next: /);
  });

  it('refuses a bad cron expression or time zone with 400 naming the field, and stores nothing', async () => {
    const cron = await call('POST', base, 'admin', { name: 'bad', spec: { ...nightly, cron: '61 * * * *' } });
    expect(cron.statusCode).toBe(400);
    expect(cron.json<ErrorJson>().error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^spec\.cron: minute: 61 is outside 0-59/) });
    const zone = await call('POST', base, 'admin', { name: 'bad', spec: { ...nightly, timeZone: 'Mars/Olympus_Mons' } });
    expect(zone.statusCode).toBe(400);
    expect(zone.json<ErrorJson>().error.message).toBe("spec.timeZone: unknown IANA time zone 'Mars/Olympus_Mons'");
    const both = await call('POST', base, 'admin', { name: 'bad', spec: { ...nightly, cron: '* * * * * * *', timeZone: 'Nowhere' } });
    expect(both.json<ErrorJson>().error.details?.problems).toEqual([expect.stringMatching(/^spec\.cron: /)]);
    const noTemplate = await call('POST', base, 'admin', { name: 'bad', spec: { cron: '0 * * * *' } });
    expect(noTemplate.json<ErrorJson>().error.message).toMatch(/^spec\.jobTemplate: /);
    const badName = await call('POST', base, 'admin', { name: 'Bad_Name', spec: nightly });
    expect(badName.json<ErrorJson>().error.message).toMatch(/^body\.name: /);
    expect((await call('GET', `${base}/bad`, 'viewer')).statusCode).toBe(404);
  });

  it('shows why a stored spec cannot be scheduled instead of fire times', async () => {
    // The CRD's rule only checks the shape of the fields; kubectl can store minute 99.
    await custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: 'default',
      plural: 'schedules',
      body: { apiVersion: API_GROUP_VERSION, kind: 'Schedule', metadata: { name: 'by-hand' }, spec: { ...nightly, cron: '99 * * * *' } },
    });
    const r = await call('GET', `${base}/by-hand`, 'viewer');
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json<ScheduleResource>()).toMatchObject({ nextFireTimes: [], problems: [expect.stringMatching(/^spec\.cron: minute: 99/)] });
  });

  it('pauses and resumes a Schedule (operator), which stops and restarts its fire times', async () => {
    const paused = await call('POST', `${base}/nightly/pause`, 'operator');
    expect(paused.statusCode, paused.body).toBe(200);
    expect(paused.json<ScheduleResource>()).toMatchObject({ spec: { suspend: true }, nextFireTimes: [] });
    const stored = (await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'schedules', name: 'nightly' })) as { spec: { suspend: boolean } };
    expect(stored.spec.suspend).toBe(true);
    const resumed = await call('POST', `${base}/nightly/resume`, 'operator');
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json<ScheduleResource>().spec.suspend).toBe(false);
    expect(resumed.json<ScheduleResource>().nextFireTimes).toHaveLength(5);
    const missing = await call('POST', `${base}/nobody/pause`, 'operator');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'Schedule "default/nobody" not found' } });
  });

  it('checks keys, roles and namespaces on every route', async () => {
    for (const [method, url, least, payload] of [
      ['GET', base, 'viewer'],
      ['GET', `${base}/nightly`, 'viewer'],
      ['POST', base, 'admin', { name: 'other', spec: nightly }],
      ['POST', `${base}/nightly/pause`, 'operator'],
      ['POST', `${base}/nightly/resume`, 'operator'],
      ['DELETE', `${base}/nightly`, 'admin'],
    ] as const) {
      const body = payload as object | undefined;
      expect((await call(method, url, undefined, body)).statusCode, `${method} ${url} without a key`).toBe(401);
      expect((await call(method, url, 'teamA', body)).statusCode, `${method} ${url} in another namespace`).toBe(403);
      if (least !== 'viewer') expect((await call(method, url, 'viewer', body)).statusCode, `${method} ${url} as viewer`).toBe(403);
      if (least === 'admin') expect((await call(method, url, 'operator', body)).statusCode, `${method} ${url} as operator`).toBe(403);
    }
    // team-a-ops may pause in its own namespace; the 404 shows it got past authorisation.
    expect((await call('POST', '/api/v1/namespaces/team-a/schedules/x/pause', 'teamA')).statusCode).toBe(404);
    expect((await call('GET', `${base}/other`, 'viewer')).statusCode).toBe(404);
  });

  it('deletes a Schedule (admin)', async () => {
    const r = await call('DELETE', `${base}/nightly-skip`, 'admin');
    expect(r.statusCode).toBe(204);
    expect((await call('GET', `${base}/nightly-skip`, 'viewer')).statusCode).toBe(404);
    expect((await call('DELETE', `${base}/nightly-skip`, 'admin')).statusCode).toBe(404);
  });

  it('answers 503 on every route when the API has no cluster', async () => {
    for (const [method, url, payload] of [
      ['GET', base],
      ['GET', `${base}/nightly`],
      ['POST', base, { name: 'x', spec: nightly }],
      ['POST', `${base}/nightly/pause`],
      ['POST', `${base}/nightly/resume`],
      ['DELETE', `${base}/nightly`],
    ] as const) {
      const r = await noCluster.app.inject({ method, url, headers: auth('admin'), ...(payload ? { payload } : {}) });
      expect(r.statusCode, `${method} ${url}`).toBe(503);
      expect(r.json<ErrorJson>().error.code).toBe('unavailable');
    }
  });
});
