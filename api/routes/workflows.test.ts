import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowResource } from '../../core/api-resources.js';
import { auth, testApi } from '../../test/helpers/api.js';
import { startClusterWithCrds, type TestCluster } from '../../test/helpers/cluster.js';
import { chain, testDataPlane } from '../../test/helpers/dataplane.js';
import { robotsRoutes } from './robots.js';
import { schedulesRoutes } from './schedules.js';
import { workflowsRoutes } from './workflows.js';

const routes = [workflowsRoutes, robotsRoutes, schedulesRoutes];
let tc: TestCluster;
let api: Awaited<ReturnType<typeof testApi>>;
let noCluster: Awaited<ReturnType<typeof testApi>>;

const base = '/api/v1/namespaces/default/workflows';
const hello = chain([{ id: 'greet', type: 'log', params: { message: 'hello' } }]);

beforeAll(async () => {
  tc = await startClusterWithCrds();
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
const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, key: Key | undefined, payload?: object) =>
  api.app.inject({ method, url, headers: key ? auth(key) : {}, ...(payload ? { payload } : {}) });

describe('workflows API (real kube-apiserver)', () => {
  it('creates a Workflow with PUT (201), replaces it (200), reads, lists and deletes it', async () => {
    const created = await call('PUT', `${base}/hello`, 'admin', { spec: hello, metadata: { labels: { team: 'ops' } } });
    expect(created.statusCode, created.body).toBe(201);
    const wf = created.json<WorkflowResource>();
    expect(wf.metadata).toMatchObject({ name: 'hello', namespace: 'default', generation: 1, labels: { team: 'ops' } });
    expect(wf.spec.nodes.map((n) => n.id)).toEqual(['start', 'greet', 'end']);

    const changed = chain([{ id: 'greet', type: 'log', params: { message: 'hello again' } }]);
    const replaced = await call('PUT', `${base}/hello`, 'admin', { spec: changed });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json<WorkflowResource>().metadata).toMatchObject({ uid: wf.metadata.uid, generation: 2, labels: { team: 'ops' } });

    const one = await call('GET', `${base}/hello`, 'viewer');
    expect(one.statusCode).toBe(200);
    expect(one.json<WorkflowResource>().spec.nodes[1]?.params).toEqual({ message: 'hello again' });

    await call('PUT', `${base}/another`, 'admin', { spec: hello });
    const list = await call('GET', base, 'viewer');
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: WorkflowResource[] }>().items.map((i) => i.metadata.name)).toEqual(['another', 'hello']);

    const gone = await call('DELETE', `${base}/another`, 'admin');
    expect(gone.statusCode).toBe(204);
    expect(gone.body).toBe('');
    expect((await call('GET', `${base}/another`, 'viewer')).json()).toEqual({ error: { code: 'not_found', message: 'Workflow "default/another" not found' } });
    expect((await call('DELETE', `${base}/another`, 'admin')).statusCode).toBe(404);
  });

  it('refuses an invalid workflow with 400, naming the nodes, and stores nothing', async () => {
    const bad = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'fetch', type: 'no-such-type' },
        { id: 'end', type: 'end' },
      ],
      edges: [
        { from: 'start', to: 'fetch' },
        { from: 'fetch', to: 'nowhere' },
      ],
    };
    const r = await call('PUT', `${base}/broken`, 'admin', { spec: bad });
    expect(r.statusCode).toBe(400);
    const body = r.json<{ error: { code: string; message: string; details: { problems: Array<{ code: string; nodeId?: string; field: string }> } } }>();
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toBe('node "fetch" type: unknown node type "no-such-type" [unknown_type]');
    expect(body.error.details.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'unknown_type', nodeId: 'fetch', field: 'type' }),
        expect.objectContaining({ code: 'dangling_edge', field: 'edges[1].to' }),
        expect.objectContaining({ code: 'unreachable', nodeId: 'end' }),
      ]),
    );
    expect((await call('GET', `${base}/broken`, 'viewer')).statusCode).toBe(404);
    // Schema problems inside a node are named by its id, not its index.
    const typed = await call('PUT', `${base}/broken`, 'admin', { spec: { nodes: [{ id: 'start', type: 'start' }, { id: 'slow', type: 'wait', timeoutMs: -1 }] } });
    expect(typed.statusCode).toBe(400);
    expect(typed.json<{ error: { message: string } }>().error.message).toMatch(/^node "slow" timeoutMs: /);
  });

  it("maps the API server's own validation (422) to 400 with its field causes", async () => {
    const r = await call('PUT', `${base}/labelled`, 'admin', { spec: hello, metadata: { labels: { 'not a valid key!': 'x' } } });
    expect(r.statusCode).toBe(400);
    const body = r.json<{ error: { code: string; message: string; details: { causes: Array<{ field: string }> } } }>();
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toMatch(/^metadata\.labels: /);
    expect(body.error.details.causes[0]?.field).toBe('metadata.labels');
  });

  it('validates a body without saving it', async () => {
    const ok = await call('POST', `${base}/validate`, 'viewer', { spec: hello });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ valid: true, problems: [] });
    const bad = await call('POST', `${base}/validate`, 'viewer', { spec: { nodes: [{ id: 'start', type: 'start' }, { id: 'x', type: 'log', params: {} }], edges: [{ from: 'start', to: 'x' }] } });
    expect(bad.statusCode).toBe(200);
    expect(bad.json()).toEqual({ valid: false, problems: [{ code: 'missing_param', nodeId: 'x', field: 'params.message', message: 'is required' }] });
    expect((await call('GET', `${base}/validate`, 'viewer')).statusCode).toBe(404);
  });

  it('checks keys, roles and namespaces on every route', async () => {
    const routesToCheck: Array<['GET' | 'PUT' | 'POST' | 'DELETE', string, Key, object?]> = [
      ['GET', base, 'viewer'],
      ['GET', `${base}/hello`, 'viewer'],
      ['PUT', `${base}/hello`, 'admin', { spec: hello }],
      ['DELETE', `${base}/hello`, 'admin'],
      ['POST', `${base}/validate`, 'viewer', { spec: hello }],
    ];
    for (const [method, url, least, payload] of routesToCheck) {
      expect((await call(method, url, undefined, payload)).statusCode, `${method} ${url} without a key`).toBe(401);
      // team-a-ops is an operator scoped to team-a.
      expect((await call(method, url, 'teamA', payload)).statusCode, `${method} ${url} in another namespace`).toBe(403);
      if (least === 'admin') {
        const denied = await call(method, url, 'viewer', payload);
        expect(denied.statusCode, `${method} ${url} as viewer`).toBe(403);
        expect(denied.json<{ error: { code: string } }>().error.code).toBe('forbidden');
        expect((await call(method, url, 'operator', payload)).statusCode, `${method} ${url} as operator`).toBe(403);
      }
    }
    // A scoped key reaches its own namespace (empty there), but still not with admin verbs.
    const own = await call('GET', '/api/v1/namespaces/team-a/workflows', 'teamA');
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({ items: [] });
    expect((await call('PUT', '/api/v1/namespaces/team-a/workflows/x', 'teamA', { spec: hello })).statusCode).toBe(403);
  });

  it('documents the routes and their schemas in the OpenAPI document', async () => {
    const doc = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } }>();
    expect(Object.keys(doc.paths['/api/v1/namespaces/{namespace}/workflows/{name}'] ?? {}).sort()).toEqual(['delete', 'get', 'put']);
    expect(doc.paths['/api/v1/namespaces/{namespace}/robots/{name}/rotate-token']).toHaveProperty('post');
    expect(doc.paths['/api/v1/namespaces/{namespace}/schedules/{name}/pause']).toHaveProperty('post');
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Workflow', 'WorkflowValidation', 'Robot', 'RobotList', 'Schedule', 'ScheduleCreate', 'TokenRotation']));
  });

  it('names bad path parameters and bodies', async () => {
    const r = await call('PUT', `${base}/Not_A_Name`, 'admin', { spec: hello });
    expect(r.statusCode).toBe(400);
    expect(r.json<{ error: { message: string } }>().error.message).toMatch(/^params\.name: /);
    const noSpec = await call('PUT', `${base}/hello`, 'admin', { nodes: [] });
    expect(noSpec.statusCode).toBe(400);
    expect(noSpec.json<{ error: { message: string } }>().error.message).toMatch(/^body\.spec: /);
  });

  it('answers 503 on every Kubernetes-backed route when the API has no cluster', async () => {
    for (const [method, url, payload] of [
      ['GET', base],
      ['GET', `${base}/hello`],
      ['PUT', `${base}/hello`, { spec: hello }],
      ['DELETE', `${base}/hello`],
    ] as const) {
      const r = await noCluster.app.inject({ method, url, headers: auth('admin'), ...(payload ? { payload } : {}) });
      expect(r.statusCode, `${method} ${url}`).toBe(503);
      expect(r.json<{ error: { code: string } }>().error.code).toBe('unavailable');
    }
    // A cluster that does not answer is unavailable too, not an internal error.
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'down', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'down', cluster: 'down', user: 'u' }],
      currentContext: 'down',
    });
    const down = await testApi(testDataPlane(), { kc, options: { routes } });
    try {
      const r = await down.app.inject({ method: 'GET', url: base, headers: auth('viewer') });
      expect(r.statusCode).toBe(503);
      expect(r.json<{ error: { code: string; message: string } }>().error).toEqual({ code: 'unavailable', message: expect.stringContaining('unreachable') });
    } finally {
      await down.close();
    }
    // Validation needs no cluster.
    expect((await noCluster.app.inject({ method: 'POST', url: `${base}/validate`, headers: auth('viewer'), payload: { spec: hello } })).json()).toEqual({ valid: true, problems: [] });
  });
});
