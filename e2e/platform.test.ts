/**
 * The platform as a user meets it: the operator and the API on one control plane and Redis; a
 * remote Robot applied with kubectl gets its join token from the operator, a machine joins the API
 * with it, a Job CR routed to that Robot runs there, and the Robot's status counts the machine.
 */
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../core/meta.js';
import { tokenSecretName } from '../operator/controllers/robot-objects.js';
import type { OperatorManager } from '../operator/manager.js';
import { auth, testApi } from '../test/helpers/api.js';
import { createRobot, startClusterWithCrds, type TestCluster } from '../test/helpers/cluster.js';
import { eventually, testDataPlane } from '../test/helpers/dataplane.js';
import { startManager, testOperatorConfig } from '../test/helpers/operator.js';
import { childEnv, type RobotProcess, spawnRobot, stopRobot } from '../test/helpers/robot-process.js';

const settings = testDataPlane();
let tc: TestCluster;
let manager: OperatorManager;
let api: Awaited<ReturnType<typeof testApi>>;
let machine: RobotProcess | undefined;
let custom: k8s.CustomObjectsApi;
const ref = (plural: string, name: string) => ({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural, name });

beforeAll(async () => {
  process.env.LOG_LEVEL ??= 'silent';
  tc = await startClusterWithCrds();
  custom = tc.kc.makeApiClient(k8s.CustomObjectsApi);
  manager = await startManager(tc.kc, testOperatorConfig(settings), { robotStatusIntervalMs: 500 });
  api = await testApi(settings, { kc: tc.kc });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
}, 900_000);

afterAll(async () => {
  if (machine) await stopRobot(machine, 'SIGKILL');
  await api?.close();
  await manager?.stop();
  await tc?.stop();
});

describe('operator + API + a remote machine', () => {
  it('joins a remote Robot with the token the operator issued and runs a Job CR on it', { timeout: 120_000 }, async () => {
    await createRobot(tc.kc, 'laptop', { mode: 'remote', capabilities: ['excel'] });
    const core = tc.kc.makeApiClient(k8s.CoreV1Api);
    const secret = await eventually(async () => core.readNamespacedSecret({ name: tokenSecretName('laptop'), namespace: 'default' }).catch(() => undefined), 15_000, 'token Secret');
    const token = Buffer.from(secret.data?.token ?? '', 'base64').toString();
    const url = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    machine = await spawnRobot(['--name', 'laptop', '--namespace', 'default', '--id', 'laptop-1', '--api', url, '--token', token], childEnv(settings, 'redis://127.0.0.1:1'));

    const robot = await eventually(async () => {
      const r = (await custom.getNamespacedCustomObject(ref('robots', 'laptop'))) as { status?: { connectedMachines?: number } };
      return r.status?.connectedMachines === 1 ? r : undefined;
    }, 20_000, 'connectedMachines 1');
    expect(robot.status?.connectedMachines).toBe(1);

    const workflow = { nodes: [{ id: 'start', type: 'start' }, { id: 'hi', type: 'set', params: { variables: { greeting: 'hello from the laptop' } } }, { id: 'end', type: 'end' }], edges: [{ from: 'start', to: 'hi' }, { from: 'hi', to: 'end' }] };
    await custom.createNamespacedCustomObject({ ...ref('workflows', 'greet'), body: { apiVersion: API_GROUP_VERSION, kind: 'Workflow', metadata: { name: 'greet' }, spec: workflow } });
    await custom.createNamespacedCustomObject({
      ...ref('jobs', 'greet-1'),
      body: { apiVersion: API_GROUP_VERSION, kind: 'Job', metadata: { name: 'greet-1' }, spec: { workflowRef: { name: 'greet' }, robotSelector: { capabilities: ['excel'] } } },
    });
    const job = await eventually(async () => {
      const j = (await custom.getNamespacedCustomObject(ref('jobs', 'greet-1'))) as { status?: { phase?: string; robot?: string; robotId?: string } };
      return j.status?.phase === 'succeeded' ? j : undefined;
    }, 30_000, 'Job succeeded').catch(async (e: unknown) => {
      const j = await custom.getNamespacedCustomObject(ref('jobs', 'greet-1'));
      throw new Error(`${(e as Error).message}: ${JSON.stringify((j as { status?: unknown }).status)}\n${machine?.output() ?? ''}`);
    });
    expect(job.status).toMatchObject({ robot: 'laptop', robotId: 'laptop-1' });

    // The same machine shows in the API's fleet view.
    const fleet = await api.app.inject({ method: 'GET', url: '/api/v1/namespaces/default/fleet', headers: auth('viewer') });
    expect(fleet.statusCode).toBe(200);
    expect(JSON.stringify(fleet.json())).toContain('laptop');
  });
});
