/**
 * The jobs routes on a real Redis with a real robot agent; no cluster here (Robots by name are
 * taken on trust), see jobs-cluster.test.ts for Workflows by name and routing by capabilities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RobotAgent } from '../../robot/agent.js';
import { auth, testApi } from '../../test/helpers/api.js';
import { startAgent, testDataPlane } from '../../test/helpers/dataplane.js';
import { jobsRoutes } from './jobs.js';

const settings = testDataPlane();
let api: Awaited<ReturnType<typeof testApi>>;
let agent: RobotAgent | undefined;

const graph = (message = 'hi') => ({
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'say', type: 'log', params: { message } },
    { id: 'set', type: 'set', params: { variables: { done: true } } },
    { id: 'end', type: 'end' },
  ],
  edges: [
    { from: 'start', to: 'say' },
    { from: 'say', to: 'set' },
    { from: 'set', to: 'end' },
  ],
});
const submit = (body: object, headers: Record<string, string> = auth('operator'), ns = 'default') =>
  api.app.inject({ method: 'POST', url: `/api/v1/namespaces/${ns}/jobs`, headers, payload: body });
const get = (path: string, key: Parameters<typeof auth>[0] = 'viewer') => api.app.inject({ method: 'GET', url: `/api/v1/namespaces/default/jobs${path}`, headers: auth(key) });

beforeAll(async () => {
  api = await testApi(settings, { options: { routes: [jobsRoutes], bodyLimit: 16 * 1024, rateLimitPerMinute: 100_000 } });
});

afterAll(async () => {
  await agent?.stop();
  await api?.close();
});

describe('jobs API (real Redis, real robot)', () => {
  it('runs a submitted inline workflow on the named robot and shows its node timeline and logs', async () => {
    agent = await startAgent(settings, { name: 'api-bot' });
    const r = await submit({ workflowSpec: graph('hello api'), robot: { name: 'api-bot' }, variables: { who: 'ada' }, priority: 70 });
    expect(r.statusCode).toBe(201);
    const job = r.json() as { id: string; namespace: string; robot: string; state: string; priority: number };
    expect(job).toMatchObject({ namespace: 'default', robot: 'api-bot', priority: 70 });
    await api.deps.jobs.waitFor(job.id, { timeoutMs: 15_000 });
    const done = (await get(`/${job.id}`)).json() as { state: string; timeline: { nodeId: string; status: string }[]; result: { variables: Record<string, unknown> } };
    expect(done.state).toBe('succeeded');
    expect(done.timeline.map((n) => [n.nodeId, n.status])).toEqual([
      ['start', 'succeeded'],
      ['say', 'succeeded'],
      ['set', 'succeeded'],
      ['end', 'succeeded'],
    ]);
    expect(done.result.variables).toMatchObject({ who: 'ada', done: true });
    const logs = (await get(`/${job.id}/logs`)).json() as { lines: string[] };
    expect(logs.lines.join('\n')).toContain('hello api');
    // Only failed jobs can be retried.
    const retry = await api.app.inject({ method: 'POST', url: `/api/v1/namespaces/default/jobs/${job.id}/retry`, headers: auth('operator') });
    expect(retry.statusCode).toBe(409);
    expect(retry.json()).toMatchObject({ error: { code: 'conflict' } });
  });

  it('returns the first job for a retried POST with the same Idempotency-Key', async () => {
    const body = { workflowSpec: graph(), robot: { name: 'idle-bot' } };
    const headers = { ...auth('operator'), 'idempotency-key': 'order-4711' };
    const first = await submit(body, headers);
    const second = await submit(body, headers);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect((second.json() as { id: string }).id).toBe((first.json() as { id: string }).id);
    // Another caller's key of the same text is another job.
    const other = await submit(body, { ...auth('admin'), 'idempotency-key': 'order-4711' });
    expect((other.json() as { id: string }).id).not.toBe((first.json() as { id: string }).id);
    expect(await api.deps.jobs.counts('default.idle-bot')).toMatchObject({ waiting: 2 });
  });

  it('lists newest first in pages without gaps or repeats, with filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(((await submit({ workflowSpec: graph(), robot: { name: i % 2 ? 'page-odd' : 'page-even' } })).json() as { id: string }).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await get(`?robot=page-even&limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json() as { items: { id: string; robot: string }[]; nextCursor?: string };
      for (const j of page.items) expect(j.robot).toBe('page-even');
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids.filter((_, i) => i % 2 === 0).reverse());
    const queued = (await get('?state=queued&limit=500')).json() as { items: { state: string }[] };
    expect(queued.items.length).toBeGreaterThanOrEqual(7);
    expect(queued.items.every((j) => j.state === 'queued')).toBe(true);
    const bad = await get('?cursor=bm9wZQ');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringContaining('querystring.cursor') } });
  });

  it('cancels a queued job', async () => {
    const { id } = (await submit({ workflowSpec: graph(), robot: { name: 'idle-bot' } })).json() as { id: string };
    const r = await api.app.inject({ method: 'POST', url: `/api/v1/namespaces/default/jobs/${id}/cancel`, headers: auth('operator') });
    expect(r.json()).toEqual({ outcome: 'cancelled' });
    expect(((await get(`/${id}`)).json() as { state: string }).state).toBe('cancelled');
  });

  it('answers bad input with 400 naming the field, a too big body with 413', async () => {
    const noWorkflow = await submit({ robot: { name: 'x' } });
    expect(noWorkflow.statusCode).toBe(400);
    expect(noWorkflow.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringContaining('body.workflow') } });
    const priority = await submit({ workflowSpec: graph(), robot: { name: 'x' }, priority: 101 });
    expect(priority.json()).toMatchObject({ error: { message: expect.stringMatching(/^body\.priority: /) } });
    const invalidGraph = await submit({ workflowSpec: { nodes: [{ id: 'a', type: 'teleport' }], edges: [] }, robot: { name: 'x' } });
    expect(invalidGraph.statusCode).toBe(400);
    expect(invalidGraph.json()).toMatchObject({ error: { message: expect.stringContaining('node "a"') } });
    const big = await submit({ workflowSpec: graph('x'.repeat(20 * 1024)), robot: { name: 'x' } });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('needs a cluster for Workflows by name and capability routing', async () => {
    expect((await submit({ workflow: 'hello', robot: { name: 'x' } })).statusCode).toBe(503);
    expect((await submit({ workflowSpec: graph(), robot: { capabilities: ['excel'] } })).statusCode).toBe(503);
  });

  it('enforces roles and namespaces: 401 without a key, 403 for a viewer submitting or another namespace', async () => {
    const body = { workflowSpec: graph(), robot: { name: 'x' } };
    expect((await submit(body, {})).statusCode).toBe(401);
    expect((await submit(body, auth('viewer'))).statusCode).toBe(403);
    expect((await submit(body, auth('teamA'))).statusCode).toBe(403);
    expect((await submit(body, auth('teamA'), 'team-a')).statusCode).toBe(201);
    const { id } = (await submit(body)).json() as { id: string };
    // A job of another namespace does not exist as far as this path goes.
    const other = await api.app.inject({ method: 'GET', url: `/api/v1/namespaces/team-a/jobs/${id}`, headers: auth('teamA') });
    expect(other.statusCode).toBe(404);
    expect((await get(`/${id}`, 'viewer')).statusCode).toBe(200);
    const cancel = await api.app.inject({ method: 'POST', url: `/api/v1/namespaces/default/jobs/${id}/cancel`, headers: auth('viewer') });
    expect(cancel.statusCode).toBe(403);
    expect((await get('/does-not-exist')).statusCode).toBe(404);
  });

  it('counts submissions on /metrics', async () => {
    const m = await api.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.body).toMatch(/rpa_api_jobs_submitted_total\{namespace="default"\} \d+/);
  });
});
