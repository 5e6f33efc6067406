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
    const say = (done as unknown as { timeline: { nodeId: string; startedAt: string; finishedAt: string; durationMs: number; attempts: number }[] }).timeline[1];
    expect(say).toMatchObject({ nodeId: 'say', attempts: 1, startedAt: expect.any(String), finishedAt: expect.any(String) });
    // Durations carry fractions of a millisecond; times do not.
    if (say) expect(Math.abs(Date.parse(say.finishedAt) - Date.parse(say.startedAt) - say.durationMs)).toBeLessThan(1);
    const logs = (await get(`/${job.id}/logs`)).json() as { lines: string[] };
    expect(logs.lines.join('\n')).toContain('hello api');
    // Only failed jobs can be retried.
    const retry = await api.app.inject({ method: 'POST', url: `/api/v1/namespaces/default/jobs/${job.id}/retry`, headers: auth('operator') });
    expect(retry.statusCode).toBe(409);
    expect(retry.json()).toMatchObject({ error: { code: 'conflict' } });
  });

  it('retries a failed job, and shows where it failed', async () => {
    // Nothing listens on port 1: the node fails at once, the job with it (no retries asked for).
    const failing = { nodes: [{ id: 'start', type: 'start' }, { id: 'call', type: 'http', params: { url: 'http://127.0.0.1:1/' } }, { id: 'end', type: 'end' }], edges: [{ from: 'start', to: 'call' }, { from: 'call', to: 'end' }] };
    const { id } = (await submit({ workflowSpec: failing, robot: { name: 'api-bot' } })).json() as { id: string };
    expect((await api.deps.jobs.waitFor(id, { timeoutMs: 15_000 })).state).toBe('failed');
    const failed = (await get(`/${id}`)).json() as { timeline: { nodeId: string; status: string; error?: string }[] };
    expect(failed.timeline.find((n) => n.nodeId === 'call')).toMatchObject({ status: 'failed', error: expect.any(String) });
    const retry = await api.app.inject({ method: 'POST', url: `/api/v1/namespaces/default/jobs/${id}/retry`, headers: auth('operator') });
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toMatchObject({ id, state: expect.stringMatching(/^(queued|retrying|running|failed)$/) });
    // It runs again (and fails again): a second attempt was made.
    await expect.poll(async () => ((await get(`/${id}`)).json() as { attemptsMade: number; state: string }).attemptsMade, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
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

  it('answers 409 for an Idempotency-Key whose job has finished and is no longer kept', async () => {
    const body = { workflowSpec: graph(), robot: { name: 'idle-bot' } };
    const headers = { ...auth('operator'), 'idempotency-key': 'evicted-1' };
    const { id } = (await submit(body, headers)).json() as { id: string };
    // What retention does to an old job; its reference (the idempotency gate) stays longer.
    await api.deps.jobs.queue('default.idle-bot').remove(id);
    const again = await submit(body, headers);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: { code: 'idempotency_key_used', message: expect.stringContaining(id) } });
    expect(await api.deps.jobs.counts('default.idle-bot')).toMatchObject({ waiting: 2 });
  });

  it('pages through more jobs than a page holds, newest first, each exactly once', async () => {
    const list = (query: string) => api.app.inject({ method: 'GET', url: `/api/v1/namespaces/paging/jobs${query}`, headers: auth('viewer') });
    const submitted = new Set<string>();
    for (let i = 0; i < 120; i++) submitted.add(((await submit({ workflowSpec: graph(), robot: { name: 'p' } }, auth('operator'), 'paging')).json() as { id: string }).id);
    const seen: { id: string; createdAt: string }[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const r = await list(cursor ? `?cursor=${cursor}` : '');
      expect(r.statusCode).toBe(200);
      const page = r.json() as { items: { id: string; createdAt: string }[]; nextCursor?: string };
      sizes.push(page.items.length);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(sizes.slice(0, 3)).toEqual([50, 50, 20]);
    expect(seen.map((j) => j.id).sort()).toEqual([...submitted].sort());
    const times = seen.map((j) => Date.parse(j.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect((await list('?limit=501')).statusCode).toBe(400);
    expect((await list('?limit=0')).json()).toMatchObject({ error: { message: expect.stringMatching(/^querystring\.limit: /) } });
  });

  it('drops index entries whose job is gone while listing', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(((await submit({ workflowSpec: graph(), robot: { name: 'p' } }, auth('operator'), 'lazy')).json() as { id: string }).id);
    const [gone] = ids;
    if (!gone) throw new Error('no job submitted');
    await api.deps.jobs.queue('lazy.p').remove(gone);
    const r = await api.app.inject({ method: 'GET', url: '/api/v1/namespaces/lazy/jobs', headers: auth('viewer') });
    expect((r.json() as { items: { id: string }[] }).items.map((j) => j.id).sort()).toEqual(ids.slice(1).sort());
    expect(await api.deps.redis.zscore(`${settings.prefix}:jobs:lazy`, gone)).toBeNull();
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
    const badParam = await submit({ workflowSpec: { nodes: [{ id: 'start', type: 'start' }, { id: 'pause', type: 'wait', params: { seconds: -1 } }], edges: [{ from: 'start', to: 'pause' }] }, robot: { name: 'x' } });
    expect(badParam.json()).toMatchObject({ error: { code: 'invalid_request', details: { problems: [expect.stringContaining('node "pause" params.seconds')] } } });
    const noRobot = await submit({ workflowSpec: graph(), robot: {} });
    expect(noRobot.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringMatching(/^body\.robot: /) } });
    const badKey = await submit({ workflowSpec: graph(), robot: { name: 'x' } }, { ...auth('operator'), 'idempotency-key': 'x'.repeat(201) });
    expect(badKey.json()).toMatchObject({ error: { message: expect.stringMatching(/^headers\.idempotency-key: /) } });
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
    expect((await get('/does-not-exist')).json()).toMatchObject({ error: { code: 'not_found' } });
    for (const action of ['cancel', 'retry']) {
      expect((await api.app.inject({ method: 'POST', url: `/api/v1/namespaces/default/jobs/does-not-exist/${action}`, headers: auth('operator') })).statusCode).toBe(404);
      expect((await api.app.inject({ method: 'POST', url: `/api/v1/namespaces/default/jobs/${id}/${action}`, headers: auth('viewer') })).statusCode).toBe(403);
      expect((await api.app.inject({ method: 'POST', url: `/api/v1/namespaces/default/jobs/${id}/${action}` })).statusCode).toBe(401);
    }
    expect((await get('/does-not-exist/logs')).statusCode).toBe(404);
    for (const path of ['', `/${id}`, `/${id}/logs`]) {
      expect((await api.app.inject({ method: 'GET', url: `/api/v1/namespaces/default/jobs${path}` })).statusCode).toBe(401);
      expect((await api.app.inject({ method: 'GET', url: `/api/v1/namespaces/default/jobs${path}`, headers: auth('teamA') })).statusCode).toBe(403);
      expect((await get(path, 'viewer')).statusCode).toBe(200);
    }
  });

  it('documents every route, its errors and named schemas in the OpenAPI document', async () => {
    const doc = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    const submitOp = doc.paths['/api/v1/namespaces/{namespace}/jobs']?.post;
    expect(Object.keys(submitOp?.responses ?? {})).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '409', '413', '422', '429', '503']));
    for (const path of ['/jobs/{id}', '/jobs/{id}/logs', '/jobs/{id}/cancel', '/jobs/{id}/retry']) expect(doc.paths[`/api/v1/namespaces/{namespace}${path}`]).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['SubmitJob', 'Job', 'JobSummary', 'JobList', 'JobLogs', 'CancelOutcome', 'NodeTimelineEntry', 'Error']));
  });

  it('counts submissions on /metrics', async () => {
    const m = await api.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.body).toMatch(/rpa_api_jobs_submitted_total\{namespace="default"\} \d+/);
  });
});
