import * as k8s from '@kubernetes/client-node';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { robotSpec } from '../../core/robot.js';
import { createRobot, startClusterWithCrds, type TestCluster } from '../../test/helpers/cluster.js';
import { chain, eventually, JobClient, newRedis, payload, redisUrl, testDataPlane } from '../../test/helpers/dataplane.js';
import { KubernetesRobotRuntime } from '../robot-runtime/kubernetes.js';
import { deploymentName } from './robot-objects.js';
import { type ScaleEvent, RobotScaler } from './robot-scaler.js';

const settings = testDataPlane();
const redis = newRedis();
const blocking = newRedis();
const client = new JobClient(redis, settings);
const events: ScaleEvent[] = [];
let tc: TestCluster;
let scaler: RobotScaler;
let apps: k8s.AppsV1Api;
let uid = '';

beforeAll(async () => {
  tc = await startClusterWithCrds();
  apps = tc.kc.makeApiClient(k8s.AppsV1Api);
  uid = await createRobot(tc.kc, 'burst-bot', { jobsPerPod: 4, maxReplicas: 4 });
  scaler = new RobotScaler(redis, blocking, settings, new KubernetesRobotRuntime(tc.kc, { defaultImage: 'rpa-robot:test' }), { onScaled: (e) => events.push(e) });
  scaler.start();
}, 900_000);

afterAll(async () => {
  await scaler?.stop();
  await client.close();
  redis.disconnect();
  blocking.disconnect();
  await tc?.stop();
});

const replicas = async () => (await apps.readNamespacedDeployment({ name: deploymentName('burst-bot'), namespace: 'default' })).spec?.replicas;

describe('RobotScaler: queue events to Deployment replicas', () => {
  it('creates the Deployment at minReplicas, follows a burst up (capped) and scales back after the window', { timeout: 60_000 }, async () => {
    scaler.track({ name: 'burst-bot', namespace: 'default', uid, spec: robotSpec.parse({ jobsPerPod: 4, minReplicas: 0, maxReplicas: 4, scaleDownStabilizationSeconds: 5 }) });
    await eventually(async () => ((await replicas().catch(() => undefined)) === 0 ? true : undefined), 10_000, 'deployment at 0');

    const spec = chain([]);
    await Promise.all(Array.from({ length: 10 }, () => client.submit({ queue: 'default.burst-bot', payload: payload(spec) })));
    await eventually(async () => ((await replicas()) === 3 ? true : undefined), 10_000, 'ceil(10/4) = 3 replicas');

    await Promise.all(Array.from({ length: 10 }, () => client.submit({ queue: 'default.burst-bot', payload: payload(spec) })));
    await eventually(async () => ((await replicas()) === 4 ? true : undefined), 10_000, 'capped at maxReplicas 4');
    expect(events.at(-1)?.decision.reason).toBe('MaxReplicas');

    const worker = new Worker('default.burst-bot', async () => ({ ok: true }), { connection: { url: redisUrl(), maxRetriesPerRequest: null }, prefix: settings.prefix });
    await eventually(async () => (scaler.lastDepth({ name: 'burst-bot', namespace: 'default' })?.waiting === 0 ? true : undefined), 10_000, 'queue drained');
    // Held during the 5 s window, then back to minReplicas without any further queue event.
    expect(await replicas()).toBe(4);
    await worker.close();
    await eventually(async () => ((await replicas()) === 0 ? true : undefined), 10_000, 'back to 0');
    expect(events.some((e) => e.decision.reason === 'Stabilizing')).toBe(false);
  });
});
