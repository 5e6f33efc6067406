/**
 * The operator as one process, on the local control plane and a real Redis, with the kubernetes
 * runtime: Robots become Deployments sized to their queue, remote Robots get join tokens,
 * metrics and probes answer, and watches survive an API server restart.
 */
import * as k8s from '@kubernetes/client-node';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_VERSION } from '../core/meta.js';
import { queueName } from '../core/queue.js';
import { deploymentName, ROTATE_TOKEN_ANNOTATION, tokenHash, tokenSecretName } from '../operator/controllers/robot-objects.js';
import type { OperatorManager } from '../operator/manager.js';
import { createRobot, startClusterWithCrds, type TestCluster } from '../test/helpers/cluster.js';
import { chain, eventually, JobClient, newRedis, payload, testDataPlane } from '../test/helpers/dataplane.js';
import { startManager, testOperatorConfig } from '../test/helpers/operator.js';

const settings = testDataPlane();
const redis = newRedis();
const client = new JobClient(redis, settings);
let tc: TestCluster;
let manager: OperatorManager;
let apps: k8s.AppsV1Api;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;

const robotRef = (name: string) => ({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'robots', name });
const replicasOf = async (robot: string) => {
  try {
    return (await apps.readNamespacedDeployment({ name: deploymentName(robot), namespace: 'default' })).spec?.replicas;
  } catch {
    return undefined;
  }
};
const waitReplicas = (robot: string, n: number, ms = 20_000) =>
  eventually(async () => ((await replicasOf(robot)) === n ? true : undefined), ms, `${robot} at ${n} replicas`);

beforeAll(async () => {
  process.env.LOG_LEVEL ??= 'silent';
  tc = await startClusterWithCrds();
  apps = tc.kc.makeApiClient(k8s.AppsV1Api);
  core = tc.kc.makeApiClient(k8s.CoreV1Api);
  custom = tc.kc.makeApiClient(k8s.CustomObjectsApi);
  manager = await startManager(tc.kc, testOperatorConfig(settings), { robotStatusIntervalMs: 1_000 });
}, 900_000);

afterAll(async () => {
  await manager?.stop();
  await client.close();
  redis.disconnect();
  await tc?.stop();
});

describe('operator with the kubernetes runtime', () => {
  it('sizes a pod Robot Deployment to its queue and back to minReplicas after the window', { timeout: 120_000 }, async () => {
    await createRobot(tc.kc, 'burst', { mode: 'pods', jobsPerPod: 4, minReplicas: 1, maxReplicas: 10, scaleDownStabilizationSeconds: 2, capabilities: ['web'] });
    await waitReplicas('burst', 1);
    const dep = await apps.readNamespacedDeployment({ name: deploymentName('burst'), namespace: 'default' });
    const env = Object.fromEntries((dep.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ RPA_ROBOT_NAME: 'burst', RPA_CONCURRENCY: '4', RPA_CAPABILITIES: 'web' });
    expect(dep.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Robot', name: 'burst', controller: true });

    const queue = queueName('default', 'burst');
    for (let i = 0; i < 20; i++) await client.submit({ queue, payload: payload(chain([{ id: 'say', type: 'log', params: { message: 'hi' } }])) });
    await waitReplicas('burst', 5);
    const status = await eventually(async () => {
      const r = (await custom.getNamespacedCustomObject(robotRef('burst'))) as { status?: { desiredReplicas?: number; queue?: { waiting: number }; scaleReason?: string } };
      return r.status?.desiredReplicas === 5 && r.status.queue?.waiting === 20 ? r.status : undefined;
    }, 15_000, 'Robot status desired 5');
    expect(status.scaleReason).toBe('QueueDepth');

    // Drain the queue as robots would, and watch it come back down once the window passed.
    const worker = new Worker(queue, async () => ({}), { connection: newRedis(), prefix: settings.prefix, concurrency: 20 });
    try {
      await waitReplicas('burst', 1, 30_000);
    } finally {
      await worker.close();
    }
    const events = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=burst' });
    expect(events.items.map((e) => e.reason)).toContain('Scaled');
    expect(events.items.find((e) => e.message?.startsWith('Scaled to 5'))).toBeDefined();

    const metrics = await (await fetch(`http://127.0.0.1:${manager.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/rpa_robot_desired_replicas\{namespace="default",robot="burst"\} 1/);
    expect(metrics).toMatch(/rpa_queue_jobs\{namespace="default",robot="burst",state="waiting"\} 0/);
    expect(metrics).toMatch(/controller_runtime_reconcile_total\{controller="robot",result="(success|requeue_after)"\} \d+/);
    expect(metrics).toMatch(/workqueue_depth\{name="job"\}/);
    expect((await fetch(`http://127.0.0.1:${manager.healthPort}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${manager.healthPort}/healthz`)).status).toBe(200);
  });

  it('scales a minReplicas 0 Robot to zero and back, and its Deployment goes with the Robot', { timeout: 120_000 }, async () => {
    await createRobot(tc.kc, 'idle', { mode: 'pods', jobsPerPod: 2, minReplicas: 0, maxReplicas: 2, scaleDownStabilizationSeconds: 1 });
    await waitReplicas('idle', 0);
    const queue = queueName('default', 'idle');
    for (let i = 0; i < 7; i++) await client.submit({ queue, payload: payload(chain([{ id: 'say', type: 'log', params: { message: 'hi' } }])) });
    await waitReplicas('idle', 2); // ceil(7/2) = 4, capped at maxReplicas 2
    type RobotWithReason = { status?: { scaleReason?: string } };
    const reason = async () => ((await custom.getNamespacedCustomObject(robotRef('idle'))) as RobotWithReason).status?.scaleReason;
    expect(await eventually(async () => ((await reason()) === 'MaxReplicas' ? true : undefined), 10_000, 'reason MaxReplicas')).toBe(true);
    await client.queue(queue).drain(true);
    await client.queue(queue).clean(0, 1000, 'wait');
    // drain() does not always leave an event behind: the Robot's periodic pass picks it up.
    await waitReplicas('idle', 0, 30_000);

    await custom.deleteNamespacedCustomObject(robotRef('idle'));
    await eventually(async () => ((await replicasOf('idle')) === undefined ? true : undefined), 60_000, 'Deployment collected');
  });

  it('warms a scale-to-zero Robot up before a Schedule that targets it fires', { timeout: 60_000 }, async () => {
    await createRobot(tc.kc, 'warm', { mode: 'pods', minReplicas: 0, maxReplicas: 3, warmupSeconds: 30, scaleDownStabilizationSeconds: 1, capabilities: ['excel'] });
    await waitReplicas('warm', 0);
    const schedule = { group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'schedules', name: 'warm-soon' };
    // Selected by capability, not by name; suspended runs nothing, so the Job controller stays out of it.
    const body = {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: 'Schedule',
      metadata: { name: 'warm-soon' },
      spec: { cron: '*/15 * * * * *', suspend: true, jobTemplate: { spec: { workflowRef: { name: 'none' }, robotSelector: { capabilities: ['excel'] } } } },
    };
    await custom.createNamespacedCustomObject({ ...schedule, body });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await replicasOf('warm')).toBe(0);
    await custom.patchNamespacedCustomObject({ ...schedule, body: { spec: { suspend: false } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await waitReplicas('warm', 1, 10_000);
    const reason = await eventually(async () => {
      const r = (await custom.getNamespacedCustomObject(robotRef('warm'))) as { status?: { scaleReason?: string } };
      return r.status?.scaleReason;
    }, 10_000, 'scale reason');
    expect(reason).toBe('Warmup');
    await custom.deleteNamespacedCustomObject(schedule);
    await waitReplicas('warm', 0, 20_000);
  });

  it('issues a hashed join token to a remote Robot and rotates it on annotation', { timeout: 60_000 }, async () => {
    await createRobot(tc.kc, 'laptop', { mode: 'remote', capabilities: ['excel'] });
    const read = () => core.readNamespacedSecret({ name: tokenSecretName('laptop'), namespace: 'default' });
    const first = await eventually(() => read().catch(() => undefined), 15_000, 'token Secret');
    const token = Buffer.from(first.data?.token ?? '', 'base64').toString();
    expect(token).toMatch(/^rpat_/);
    expect(Buffer.from(first.data?.tokenHash ?? '', 'base64').toString()).toBe(tokenHash(token));
    expect(await replicasOf('laptop')).toBeUndefined();

    const status = await eventually(async () => {
      const r = (await custom.getNamespacedCustomObject(robotRef('laptop'))) as { status?: { connectedMachines?: number; conditions?: Array<{ type: string; reason: string }> } };
      return r.status?.conditions ? r.status : undefined;
    }, 15_000, 'remote Robot status');
    expect(status.connectedMachines).toBe(0);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('WaitingForMachines');

    await custom.patchNamespacedCustomObject(
      { ...robotRef('laptop'), body: { metadata: { annotations: { [ROTATE_TOKEN_ANNOTATION]: '2026-11-23T10:00:00Z' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const rotated = await eventually(async () => {
      const s = await read();
      return s.metadata?.annotations?.[ROTATE_TOKEN_ANNOTATION] === '2026-11-23T10:00:00Z' ? s : undefined;
    }, 15_000, 'rotated token');
    expect(Buffer.from(rotated.data?.token ?? '', 'base64').toString()).not.toBe(token);
  });

  it('reconciles everything again after losing the Lease and winning it back', { timeout: 90_000 }, async () => {
    await createRobot(tc.kc, 'relead', { mode: 'pods', minReplicas: 1, maxReplicas: 2 });
    await waitReplicas('relead', 1);
    // Another identity takes the Lease; the manager's renewals fail until its renew deadline.
    const leases = tc.kc.makeApiClient(k8s.CoordinationV1Api);
    const lease = { name: 'rpa-operator', namespace: 'default' };
    const now = new k8s.V1MicroTime(Date.now());
    await leases.patchNamespacedLease(
      { ...lease, body: { spec: { holderIdentity: 'thief', acquireTime: now, renewTime: now, leaseDurationSeconds: 10 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await eventually(async () => (manager.isLeader() ? undefined : true), 20_000, 'leadership lost');
    // Changed while nobody leads: no event will tell the next leader's controllers about it.
    await apps.deleteNamespacedDeployment({ name: deploymentName('relead'), namespace: 'default' });
    await eventually(async () => (manager.isLeader() ? true : undefined), 30_000, 'leadership regained');
    await waitReplicas('relead', 1, 20_000);
  });

  it('resumes its watches after the API server restarts without missing an object', { timeout: 120_000 }, async () => {
    const restart = tc.cluster.restartApiserver;
    if (!restart) return;
    const lists = manager.informers.all().map((i) => i.listCount);
    await restart();
    // Changed right after the restart, while the informers are still reconnecting.
    // A fresh API server answers 429 until its watch caches for custom resources are ready.
    const whenReady = <T>(call: () => Promise<T>) =>
      eventually(() => call().catch((e: unknown) => (e instanceof k8s.ApiException && e.code === 429 ? undefined : Promise.reject(e))), 30_000, 'API server ready');
    await whenReady(() => createRobot(tc.kc, 'after-restart', { mode: 'pods', minReplicas: 1, maxReplicas: 1 }));
    await whenReady(() => custom.deleteNamespacedCustomObject(robotRef('laptop')));
    await waitReplicas('after-restart', 1, 60_000);
    // Each cache holds exactly what the server holds. A fresh API server's watch cache may answer
    // an old resourceVersion with 410 Gone: that costs one relist, never a missed object.
    for (const informer of manager.informers.all()) {
      const plural = informer.resource.split('.')[0] ?? '';
      const names = async () => ((await whenReady(() => custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural }))) as { items: { metadata: { name: string } }[] }).items.map((o) => o.metadata.name).sort();
      await eventually(async () => {
        const cached = informer.list().map((o) => o.metadata?.name ?? '').sort();
        return JSON.stringify(cached) === JSON.stringify(await names()) ? true : undefined;
      }, 15_000, `${informer.resource} cache in step with the server`);
    }
    const relists = manager.informers.all().map((i, n) => i.listCount - (lists[n] ?? 0));
    for (const r of relists) expect(r).toBeLessThanOrEqual(1);
  });
});
