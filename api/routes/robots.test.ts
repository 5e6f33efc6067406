import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RobotResource } from '../../core/api-resources.js';
import { API_GROUP, API_VERSION } from '../../core/meta.js';
import type { RobotPresence } from '../../core/presence.js';
import { PresenceStore } from '../../dataplane/presence.js';
import { ROTATE_TOKEN_ANNOTATION } from '../../operator/controllers/robot-objects.js';
import { auth, testApi } from '../../test/helpers/api.js';
import { createRobot, startClusterWithCrds, type TestCluster } from '../../test/helpers/cluster.js';
import { testDataPlane } from '../../test/helpers/dataplane.js';
import { robotsRoutes } from './robots.js';
import { schedulesRoutes } from './schedules.js';
import { workflowsRoutes } from './workflows.js';

const routes = [workflowsRoutes, robotsRoutes, schedulesRoutes];
const settings = testDataPlane();
let tc: TestCluster;
let custom: k8s.CustomObjectsApi;
let api: Awaited<ReturnType<typeof testApi>>;
let noCluster: Awaited<ReturnType<typeof testApi>>;

const base = '/api/v1/namespaces/default/robots';
const ref = (name: string) => ({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'robots', name });

function presence(id: string, robot: string, extra: Partial<RobotPresence> = {}): RobotPresence {
  const now = new Date().toISOString();
  return {
    id,
    robot,
    namespace: 'default',
    mode: 'remote',
    host: `${id}.example`,
    pid: 42,
    version: '1.2.3',
    capabilities: ['browser'],
    concurrency: 2,
    runningJobs: [],
    draining: false,
    cpu: { percent: 12.5, cores: 4 },
    memory: { rssBytes: 100, heapUsedBytes: 50, totalBytes: 8_000, freeBytes: 4_000 },
    startedAt: now,
    lastHeartbeat: now,
    ...extra,
  };
}

beforeAll(async () => {
  tc = await startClusterWithCrds();
  custom = tc.kc.makeApiClient(k8s.CustomObjectsApi);
  await createRobot(tc.kc, 'laptop', { mode: 'remote', capabilities: ['browser'] });
  await createRobot(tc.kc, 'podbot', { mode: 'pods', maxReplicas: 3 });
  // What the operator would write: the API passes the CR's status through.
  await custom.patchNamespacedCustomObjectStatus(
    { ...ref('podbot'), body: { status: { replicas: 1, readyReplicas: 1, queueDepth: 4, scaleReason: 'QueueDepth' } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  api = await testApi(settings, { kc: tc.kc, options: { routes } });
  noCluster = await testApi(settings, { options: { routes } });
}, 900_000);
afterAll(async () => {
  await api?.close();
  await noCluster?.close();
  await tc?.stop();
});

type Key = Parameters<typeof auth>[0];
const call = (method: 'GET' | 'POST', url: string, key: Key | undefined) => api.app.inject({ method, url, headers: key ? auth(key) : {} });

describe('robots API (real kube-apiserver, real Redis presence)', () => {
  it('lists Robots with their CR status and live instances joined from presence', async () => {
    const store = new PresenceStore(api.deps.redis, settings);
    const older = new Date(Date.now() - 3_000).toISOString();
    await store.beat(presence('laptop-1', 'laptop', { runningJobs: ['j1'], lastHeartbeat: older }));
    await store.beat(presence('laptop-2', 'laptop', { runningJobs: ['j2', 'j3'], mode: 'remote', cpu: { percent: 80, cores: 8 } }));
    // Another namespace's robot of the same name, and a robot without a CR: neither shows up.
    await store.beat(presence('elsewhere', 'laptop', { namespace: 'team-a' }));
    await store.beat(presence('stray', 'ghost'));

    const r = await call('GET', base, 'viewer');
    expect(r.statusCode, r.body).toBe(200);
    const items = r.json<{ items: RobotResource[] }>().items;
    expect(items.map((i) => i.metadata.name)).toEqual(['laptop', 'podbot']);
    const [laptop, podbot] = items;
    expect(laptop?.spec).toMatchObject({ mode: 'remote', capabilities: ['browser'] });
    expect(laptop?.live).toMatchObject({ connected: 2, slots: 4, busySlots: 3 });
    expect(laptop?.live.lastHeartbeat).not.toBe(older);
    expect(laptop?.live.instances.map((i) => [i.id, i.host, i.cpu.percent, i.memory.freeBytes, i.runningJobs.length])).toEqual([
      ['laptop-1', 'laptop-1.example', 12.5, 4_000, 1],
      ['laptop-2', 'laptop-2.example', 80, 4_000, 2],
    ]);
    expect(podbot?.spec).toMatchObject({ mode: 'pods', maxReplicas: 3, minReplicas: 0 });
    expect(podbot?.status).toMatchObject({ replicas: 1, readyReplicas: 1, queueDepth: 4, scaleReason: 'QueueDepth' });
    expect(podbot?.live).toEqual({ connected: 0, slots: 0, busySlots: 0, instances: [] });

    const one = await call('GET', `${base}/laptop`, 'viewer');
    expect(one.statusCode).toBe(200);
    expect(one.json<RobotResource>().live.instances.map((i) => i.id)).toEqual(['laptop-1', 'laptop-2']);

    await store.remove('laptop-2');
    expect((await call('GET', `${base}/laptop`, 'viewer')).json<RobotResource>().live).toMatchObject({ connected: 1, busySlots: 1, lastHeartbeat: older });
  });

  it('answers 404 for an unknown Robot', async () => {
    const r = await call('GET', `${base}/nobody`, 'viewer');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: { code: 'not_found', message: 'Robot "default/nobody" not found' } });
    expect((await call('POST', `${base}/nobody/rotate-token`, 'admin')).statusCode).toBe(404);
  });

  it("rotates a remote Robot's join token by annotating it, and refuses for a pods-mode Robot", async () => {
    const r = await call('POST', `${base}/laptop/rotate-token`, 'admin');
    expect(r.statusCode, r.body).toBe(202);
    const body = r.json<{ name: string; namespace: string; rotation: string; secret: string }>();
    expect(body).toMatchObject({ name: 'laptop', namespace: 'default', secret: 'rpa-robot-laptop-token' });
    const stored = (await custom.getNamespacedCustomObject(ref('laptop'))) as { metadata: { annotations?: Record<string, string> } };
    expect(stored.metadata.annotations?.[ROTATE_TOKEN_ANNOTATION]).toBe(body.rotation);

    // Each request is a new value, so each one makes the operator issue a token.
    const again = await call('POST', `${base}/laptop/rotate-token`, 'admin');
    expect(again.json<{ rotation: string }>().rotation).not.toBe(body.rotation);

    const pods = await call('POST', `${base}/podbot/rotate-token`, 'admin');
    expect(pods.statusCode).toBe(409);
    expect(pods.json<{ error: { code: string; message: string } }>().error).toEqual({ code: 'conflict', message: expect.stringContaining('pods mode') });
    const untouched = (await custom.getNamespacedCustomObject(ref('podbot'))) as { metadata: { annotations?: Record<string, string> } };
    expect(untouched.metadata.annotations?.[ROTATE_TOKEN_ANNOTATION]).toBeUndefined();
  });

  it('checks keys, roles and namespaces on every route', async () => {
    for (const [method, url, least] of [
      ['GET', base, 'viewer'],
      ['GET', `${base}/laptop`, 'viewer'],
      ['POST', `${base}/laptop/rotate-token`, 'admin'],
    ] as const) {
      expect((await call(method, url, undefined)).statusCode, `${method} ${url} without a key`).toBe(401);
      expect((await call(method, url, 'teamA')).statusCode, `${method} ${url} in another namespace`).toBe(403);
      if (least === 'admin') {
        expect((await call(method, url, 'viewer')).statusCode).toBe(403);
        expect((await call(method, url, 'operator')).statusCode).toBe(403);
      } else {
        expect((await call(method, url, 'viewer')).statusCode).toBe(200);
      }
    }
    const own = await call('GET', '/api/v1/namespaces/team-a/robots', 'teamA');
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({ items: [] });
  });

  it('answers 503 when the API has no cluster', async () => {
    for (const [method, url] of [
      ['GET', base],
      ['GET', `${base}/laptop`],
      ['POST', `${base}/laptop/rotate-token`],
    ] as const) {
      const r = await noCluster.app.inject({ method, url, headers: auth('admin') });
      expect(r.statusCode, `${method} ${url}`).toBe(503);
      expect(r.json<{ error: { code: string } }>().error.code).toBe('unavailable');
    }
  });
});
