import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { robotSpec } from '../../core/robot.js';
import { createRobot, startClusterWithCrds, type TestCluster } from '../../test/helpers/cluster.js';
import { eventually } from '../../test/helpers/dataplane.js';
import { deploymentName, ROBOT_LABEL } from '../controllers/robot-objects.js';
import { KubernetesRobotRuntime, POD_DELETION_COST } from './kubernetes.js';

let tc: TestCluster;
let runtime: KubernetesRobotRuntime;
let apps: k8s.AppsV1Api;
let core: k8s.CoreV1Api;
let uid = '';

beforeAll(async () => {
  tc = await startClusterWithCrds();
  runtime = new KubernetesRobotRuntime(tc.kc, { defaultImage: 'rpa-robot:test', redisUrl: 'redis://redis:6379' });
  apps = tc.kc.makeApiClient(k8s.AppsV1Api);
  core = tc.kc.makeApiClient(k8s.CoreV1Api);
  uid = await createRobot(tc.kc, 'pods-bot', { jobsPerPod: 2 });
}, 900_000);

afterAll(async () => {
  await tc?.stop();
});

describe('KubernetesRobotRuntime on a real kube-apiserver', () => {
  const robot = () => ({ name: 'pods-bot', namespace: 'default', uid, spec: robotSpec.parse({ jobsPerPod: 2, capabilities: ['browser'] }) });

  it('applies the Deployment with server-side apply, owned by the Robot, and scales it', async () => {
    expect((await runtime.apply(robot(), 2)).replicas).toBe(2);
    const d = await apps.readNamespacedDeployment({ name: deploymentName('pods-bot'), namespace: 'default' });
    expect(d.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Robot', name: 'pods-bot', uid, controller: true });
    expect(d.metadata?.managedFields?.some((m) => m.manager === 'rpa-operator' && m.operation === 'Apply')).toBe(true);
    // Applying again changes nothing: no conflict, same generation.
    await runtime.apply(robot(), 2);
    const again = await apps.readNamespacedDeployment({ name: deploymentName('pods-bot'), namespace: 'default' });
    expect(again.metadata?.generation).toBe(d.metadata?.generation);
    expect((await runtime.apply(robot(), 3)).replicas).toBe(3);
    expect((await runtime.state(robot()))?.replicas).toBe(3);
  });

  it('marks busy pods expensive to delete so a scale-down takes idle ones', async () => {
    const pods = await eventually(async () => {
      const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: `${ROBOT_LABEL}=pods-bot` });
      return list.items.length === 3 ? list.items : undefined;
    }, 30_000, 'three pods from the ReplicaSet');
    const busy = pods[0]?.metadata?.name ?? '';
    expect(await runtime.protectBusyPods(robot(), new Map([[busy, 2]]))).toBe(3);
    const after = await core.listNamespacedPod({ namespace: 'default', labelSelector: `${ROBOT_LABEL}=pods-bot` });
    const costs = Object.fromEntries(after.items.map((p) => [p.metadata?.name, p.metadata?.annotations?.[POD_DELETION_COST]]));
    expect(costs[busy]).toBe('200');
    expect(Object.values(costs).filter((c) => c === '0')).toHaveLength(2);
    expect(await runtime.protectBusyPods(robot(), new Map([[busy, 2]]))).toBe(0);
  });

  it('removes the Deployment', async () => {
    await runtime.remove(robot());
    await eventually(async () => ((await runtime.state(robot())) === undefined ? true : undefined), 10_000, 'deployment gone');
    await runtime.remove(robot());
  });
});
