/**
 * `rpa operator --runtime process` as real processes on the local control plane: a Job CR runs
 * on a robot the operator started, survives the operator being SIGKILLed mid-run without running
 * twice, a standby takes the Lease over, and a Schedule keeps one run per tick across a failover.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../core/meta.js';
import { createRobot, startClusterWithCrds, type TestCluster } from '../test/helpers/cluster.js';
import { eventually, JobClient, newRedis, redisUrl, testDataPlane } from '../test/helpers/dataplane.js';
import { HttpFixture } from '../test/helpers/http-fixture.js';
import { childEnv, RPA_BIN } from '../test/helpers/robot-process.js';

const settings = testDataPlane();
const redis = newRedis();
const client = new JobClient(redis, settings);
const http = new HttpFixture();
let tc: TestCluster;
let custom: k8s.CustomObjectsApi;
let leases: k8s.CoordinationV1Api;
const operators = new Set<ChildProcess>();

const ref = (plural: string, name: string) => ({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural, name });
const create = (plural: string, kind: string, name: string, spec: unknown) =>
  custom.createNamespacedCustomObject({ ...ref(plural, name), body: { apiVersion: API_GROUP_VERSION, kind, metadata: { name }, spec } });

/** Starts `rpa operator` and resolves once its caches are synced (it may still be a standby). */
async function startOperator(identity: string, lease: string): Promise<ChildProcess> {
  const env = childEnv(settings, redisUrl(), {
    POD_NAME: identity,
    RPA_OPERATOR_METRICS_PORT: '0',
    RPA_OPERATOR_HEALTH_PORT: '0',
    RPA_OPERATOR_BIND_HOST: '127.0.0.1',
    RPA_LEADER_ELECTION_NAMESPACE: 'default',
    RPA_LEASE_NAME: lease,
  });
  const child = spawn(process.execPath, [RPA_BIN, 'operator', '--runtime', 'process', '--kubeconfig', tc.cluster.kubeconfig], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  operators.add(child);
  child.once('exit', () => operators.delete(child));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(async () => (out.includes(`operator ${identity} started`) ? true : undefined), 60_000, `operator ${identity} started:\n${out}`);
  return child;
}

const holder = async (lease: string) => (await leases.readNamespacedLease({ name: lease, namespace: 'default' }).catch(() => undefined))?.spec?.holderIdentity;

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  await http.start();
  tc = await startClusterWithCrds();
  custom = tc.kc.makeApiClient(k8s.CustomObjectsApi);
  leases = tc.kc.makeApiClient(k8s.CoordinationV1Api);
  await createRobot(tc.kc, 'dev', { mode: 'pods', minReplicas: 0, maxReplicas: 2, jobsPerPod: 2, scaleDownStabilizationSeconds: 2 });
}, 900_000);

afterEach(async () => {
  await Promise.all([...operators].map((o) => new Promise<void>((resolve) => {
    o.once('exit', () => resolve());
    o.kill('SIGTERM');
  })));
});

afterAll(async () => {
  await client.close();
  redis.disconnect();
  await tc?.stop();
  await http.stop();
});

interface StoredJob {
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  status?: { phase?: string; robot?: string; attempts?: number; result?: { status: string } };
}

describe('rpa operator --runtime process', () => {
  it('runs a Job CR on a robot it started; a SIGKILL mid-run and a standby taking over never run it twice', { timeout: 180_000 }, async () => {
    await create('workflows', 'Workflow', 'slow-ping', {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'call', type: 'http', params: { url: `${http.url}/hit/{{ who }}` } },
        { id: 'pause', type: 'wait', params: { seconds: 4 } },
        { id: 'end', type: 'end' },
      ],
      edges: [
        { from: 'start', to: 'call' },
        { from: 'call', to: 'pause' },
        { from: 'pause', to: 'end' },
      ],
    });
    const a = await startOperator('op-a', 'rpa-op-job');
    await eventually(async () => ((await holder('rpa-op-job')) === 'op-a' ? true : undefined), 20_000, 'op-a leads');
    const b = await startOperator('op-b', 'rpa-op-job');
    expect(await holder('rpa-op-job')).toBe('op-a');

    await create('jobs', 'Job', 'ping-ada', { workflowRef: { name: 'slow-ping' }, robotSelector: { name: 'dev' }, variables: { who: 'ada' } });
    // The operator scaled 'dev' from zero, its robot took the job and is in the 4 s pause: kill the operator now.
    await eventually(async () => (http.count('/hit/ada') === 1 ? true : undefined), 60_000, 'job running');
    const killedAt = Date.now();
    await kill9(a);

    await eventually(async () => ((await holder('rpa-op-job')) === 'op-b' ? true : undefined), 30_000, 'op-b takes over');
    const failoverMs = Date.now() - killedAt;
    process.stderr.write(`[operator-process] leader failover after SIGKILL: ${failoverMs} ms\n`);
    // The promise is 15 s: a 10 s lease, plus at most two jittered 1 s retry periods (noticing the
    // last renewal, then noticing the expiry).
    expect(failoverMs).toBeLessThan(15_000);

    const done = await eventually(async () => {
      const j = (await custom.getNamespacedCustomObject(ref('jobs', 'ping-ada'))) as StoredJob;
      return j.status?.phase === 'succeeded' ? j : undefined;
    }, 60_000, 'Job succeeded');
    expect(done.status).toMatchObject({ robot: 'dev', result: { status: 'succeeded' } });
    expect(http.count('/hit/ada')).toBe(1);
    expect((await client.get(done.metadata.uid))?.state).toBe('succeeded');
    void b;
  });

  it('fires a Schedule once per tick with two operators racing for the lease across a failover', { timeout: 180_000 }, async () => {
    await create('workflows', 'Workflow', 'tick', {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'call', type: 'http', params: { url: `${http.url}/tick` } },
      ],
      edges: [{ from: 'start', to: 'call' }],
    });
    const first = await startOperator('op-c', 'rpa-op-schedule');
    await eventually(async () => ((await holder('rpa-op-schedule')) === 'op-c' ? true : undefined), 20_000, 'op-c leads');
    await startOperator('op-d', 'rpa-op-schedule');
    await create('schedules', 'Schedule', 'every2s', {
      cron: '*/2 * * * * *',
      successfulRunsHistoryLimit: 100,
      failedRunsHistoryLimit: 100,
      jobTemplate: { spec: { workflowRef: { name: 'tick' }, robotSelector: { name: 'dev' } } },
    });
    const runs = async () =>
      ((await custom.listNamespacedCustomObject({ ...ref('jobs', ''), labelSelector: 'rpa.dev/schedule=every2s' })) as { items: StoredJob[] }).items;
    await eventually(async () => ((await runs()).length >= 3 ? true : undefined), 30_000, 'three runs');
    await kill9(first);
    await eventually(async () => ((await holder('rpa-op-schedule')) === 'op-d' ? true : undefined), 30_000, 'op-d takes over');
    const before = (await runs()).length;
    await eventually(async () => ((await runs()).length >= before + 3 ? true : undefined), 30_000, 'three more runs');
    await custom.patchNamespacedCustomObject({ ...ref('schedules', 'every2s'), body: { spec: { suspend: true } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));

    const all = await eventually(async () => {
      const items = await runs();
      return items.every((j) => j.status?.phase === 'succeeded') ? items : undefined;
    }, 60_000, 'every run finished');
    const ticks = all.map((j) => Number(j.metadata.name.split('-').at(-1)));
    expect(new Set(ticks).size).toBe(ticks.length);
    for (const t of ticks) expect(t % 2).toBe(0);
    // Each run ran exactly once: one HTTP hit per Job CR, none lost to the failover, none doubled.
    expect(http.count('/tick')).toBe(all.length);
  });
});
