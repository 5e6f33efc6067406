/** Submitting by Workflow name and routing by capabilities, on a real kube-apiserver and Redis. */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../../core/meta.js';
import { auth, testApi } from '../../test/helpers/api.js';
import { createRobot, startClusterWithCrds, type TestCluster } from '../../test/helpers/cluster.js';
import { testDataPlane } from '../../test/helpers/dataplane.js';
import { jobsRoutes } from './jobs.js';

let tc: TestCluster;
let api: Awaited<ReturnType<typeof testApi>>;
const submit = (body: object) => api.app.inject({ method: 'POST', url: '/api/v1/namespaces/default/jobs', headers: auth('operator'), payload: body });

beforeAll(async () => {
  tc = await startClusterWithCrds();
  const custom = tc.kc.makeApiClient(k8s.CustomObjectsApi);
  const spec = { nodes: [{ id: 'start', type: 'start' }, { id: 'end', type: 'end' }], edges: [{ from: 'start', to: 'end' }] };
  await custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'workflows', body: { apiVersion: API_GROUP_VERSION, kind: 'Workflow', metadata: { name: 'noop' }, spec } });
  await createRobot(tc.kc, 'browser-bot', { capabilities: ['browser'] });
  await createRobot(tc.kc, 'excel-bot', { capabilities: ['excel', 'browser'] });
  api = await testApi(testDataPlane(), { kc: tc.kc, options: { routes: [jobsRoutes] } });
}, 900_000);

afterAll(async () => {
  await api?.close();
  await tc?.stop();
});

describe('jobs API with a cluster', () => {
  it('snapshots a Workflow by name and routes by capabilities to a Robot that has them all', async () => {
    const r = await submit({ workflow: 'noop', robot: { capabilities: ['excel'] } });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ workflow: 'noop', robot: 'excel-bot', queue: 'default.excel-bot' });
    const byName = await submit({ workflow: 'noop', robot: { name: 'browser-bot' } });
    expect(byName.json()).toMatchObject({ robot: 'browser-bot' });
  });

  it('answers 422 for a missing Workflow, an unknown Robot or no capable Robot', async () => {
    const wf = await submit({ workflow: 'nope', robot: { name: 'browser-bot' } });
    expect(wf.statusCode).toBe(422);
    expect(wf.json()).toMatchObject({ error: { code: 'workflow_not_found' } });
    const robot = await submit({ workflow: 'noop', robot: { name: 'ghost' } });
    expect(robot.json()).toMatchObject({ error: { code: 'robot_not_found' } });
    const caps = await submit({ workflow: 'noop', robot: { capabilities: ['sap'] } });
    expect(caps.statusCode).toBe(422);
    expect(caps.json()).toMatchObject({ error: { code: 'no_capable_robot' } });
  });
});
