import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_VERSION } from '../../core/meta.js';
import { createRobot, startClusterWithCrds, type TestCluster } from '../../test/helpers/cluster.js';
import { eventually, JobClient, newRedis, startAgent, testDataPlane } from '../../test/helpers/dataplane.js';
import { HttpFixture } from '../../test/helpers/http-fixture.js';
import type { RobotAgent } from '../../robot/agent.js';
import { JOB_FINALIZER } from './job-decide.js';
import { SharedInformers } from '../runtime/shared-informers.js';
import { JobController } from './job-controller.js';

const settings = testDataPlane();
const redis = newRedis();
const client = new JobClient(redis, settings);
const http = new HttpFixture();
let tc: TestCluster;
let custom: k8s.CustomObjectsApi;
let controller: JobController;
let informers: SharedInformers;

async function startJobController() {
  const shared = new SharedInformers(tc.kc);
  const c = new JobController(tc.kc, shared, client);
  await shared.start();
  c.start();
  return { controller: c, informers: shared };
}
let agent: RobotAgent;

const ref = (plural: string, name: string) => ({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural, name });
const create = (plural: string, kind: string, name: string, spec: unknown) =>
  custom.createNamespacedCustomObject({ ...ref(plural, name), body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind, metadata: { name }, spec } });

interface StoredJob {
  metadata: { uid: string; finalizers?: string[] };
  status?: { phase?: string; robot?: string; queue?: string; result?: { status: string; nodesRun?: number }; conditions?: Array<{ type: string; status: string; reason: string }> };
}
const getJob = async (name: string) => (await custom.getNamespacedCustomObject(ref('jobs', name))) as StoredJob;

beforeAll(async () => {
  await http.start();
  tc = await startClusterWithCrds();
  custom = tc.kc.makeApiClient(k8s.CustomObjectsApi);
  await createRobot(tc.kc, 'cr-bot', { mode: 'remote', capabilities: ['http'] });
  agent = await startAgent(settings, { name: 'cr-bot' });
  ({ controller, informers } = await startJobController());
}, 900_000);

afterAll(async () => {
  await controller?.stop();
  await informers?.stop();
  await agent?.stop(200);
  await client.close();
  redis.disconnect();
  await tc?.stop();
  await http.stop();
});

describe('JobController on a real kube-apiserver and Redis', () => {
  it('runs a Job CR on the Robot its selector picks and mirrors the run into status, once across restarts', { timeout: 90_000 }, async () => {
    await create('workflows', 'Workflow', 'ping', {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'call', type: 'http', params: { url: `${http.url}/ping/{{ who }}` } },
      ],
      edges: [{ from: 'start', to: 'call' }],
    });
    await create('jobs', 'Job', 'ping-1', { workflowRef: { name: 'ping' }, robotSelector: { capabilities: ['http'] }, variables: { who: 'ada' } });

    const done = await eventually(async () => {
      const j = await getJob('ping-1');
      return j.status?.phase === 'succeeded' ? j : undefined;
    }, 30_000, 'Job succeeded');
    expect(done.metadata.finalizers).toContain(JOB_FINALIZER);
    expect(done.status).toMatchObject({ robot: 'cr-bot', queue: 'default.cr-bot', result: { status: 'succeeded', nodesRun: 2 } });
    expect(done.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(http.count('/ping/ada')).toBe(1);
    expect((await client.get(done.metadata.uid))?.state).toBe('succeeded');

    // A new operator (restart, or another leader) sees the same Job: it must not run it again.
    await controller.stop();
    await informers.stop();
    ({ controller, informers } = await startJobController());
    await new Promise((r) => setTimeout(r, 1_500));
    expect(http.count('/ping/ada')).toBe(1);

    // Deleting the CR releases the finalizer and the object goes.
    await custom.deleteNamespacedCustomObject(ref('jobs', 'ping-1'));
    await eventually(async () => (await getJob('ping-1').then(() => undefined, () => true)), 15_000, 'Job deleted');
  });

  it('says why a Job cannot run: unknown workflow, no capable robot', { timeout: 60_000 }, async () => {
    await create('jobs', 'Job', 'lost', { workflowRef: { name: 'nope' }, robotSelector: { name: 'cr-bot' } });
    await create('jobs', 'Job', 'picky', { workflowRef: { name: 'ping' }, robotSelector: { capabilities: ['sap'] } });
    const stalled = async (name: string) =>
      eventually(async () => (await getJob(name)).status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True'), 15_000, `${name} stalled`);
    expect((await stalled('lost')).reason).toBe('WorkflowNotFound');
    expect((await stalled('picky')).reason).toBe('NoCapableRobot');
  });
});
