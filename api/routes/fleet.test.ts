import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile } from '../../core/api-fleet.js';
import type { FleetSummary } from '../../core/api-fleet.js';
import { queueName } from '../../core/queue.js';
import type { RobotAgent } from '../../robot/agent.js';
import { auth, testApi } from '../../test/helpers/api.js';
import { chain, payload, startAgent, testDataPlane } from '../../test/helpers/dataplane.js';
import { installQueueGauges } from '../queue-gauges.js';
import { fleetRoutes } from './fleet.js';

const settings = testDataPlane();
let api: Awaited<ReturnType<typeof testApi>>;
let bot: RobotAgent;
const waits = [50, 100, 150, 200, 300, 600];
let durations: number[] = [];

beforeAll(async () => {
  api = await testApi(settings, { options: { routes: [fleetRoutes] } });
  installQueueGauges(api.deps.registry, api.deps);
  bot = await startAgent(settings, { concurrency: 2 });
  const ids: string[] = [];
  for (const ms of waits) ids.push((await api.deps.jobs.submit({ queue: bot.queue, payload: payload(chain([{ id: 'hold', type: 'wait', params: { ms } }])) })).id);
  // Nothing listens on port 1: the request fails at once.
  for (let i = 0; i < 2; i++) ids.push((await api.deps.jobs.submit({ queue: bot.queue, payload: payload(chain([{ id: 'call', type: 'http', params: { url: 'http://127.0.0.1:1/' } }])) })).id);
  // A Robot with work and nobody to do it, and one in another namespace.
  for (let i = 0; i < 3; i++) await api.deps.jobs.submit({ queue: queueName('default', 'idle-bot'), payload: payload(chain([])) });
  await api.deps.jobs.submit({ queue: queueName('team-a', 'other'), payload: payload(chain([])) });
  const views = await Promise.all(ids.map((id) => api.deps.jobs.waitFor(id, { timeoutMs: 20_000 })));
  expect(views.map((v) => v.state).sort()).toEqual([...Array(2).fill('failed'), ...Array(6).fill('succeeded')]);
  durations = views.map((v) => Date.parse(v.finishedAt ?? '') - Date.parse(v.startedAt ?? '')).sort((a, b) => a - b);
  // Let the robot's heartbeat report it idle again.
  await new Promise((r) => setTimeout(r, 1_200));
});
afterAll(async () => {
  await bot?.stop(200);
  await api?.close();
});

async function fleet(url: string, key: Parameters<typeof auth>[0] = 'viewer'): Promise<FleetSummary> {
  const r = await api.app.inject({ method: 'GET', url, headers: auth(key) });
  expect(r.statusCode, r.body).toBe(200);
  return r.json<FleetSummary>();
}

describe('fleet overview (real Redis, a real robot)', () => {
  it('counts robots, queue depths, outcomes and run-time percentiles of one namespace', async () => {
    const f = await fleet('/api/v1/namespaces/default/fleet');
    expect(f.namespaces).toEqual(['default']);
    expect(f.windowSeconds).toBe(3600);
    expect(f.robots).toEqual({ online: 1, busy: 0, idle: 1, draining: 0, offline: 1 });
    expect(f.jobs).toEqual({ waiting: 3, active: 0, delayed: 0, failed: 2, completed: 6 });
    expect(f.queues.map((q) => q.queue)).toEqual(['default.bot', 'default.idle-bot']);
    const [botRow, idleRow] = f.queues;
    expect(botRow?.robots).toEqual({ online: 1, busy: 0, idle: 1, draining: 0 });
    expect(idleRow).toMatchObject({ robot: 'idle-bot', jobs: { waiting: 3 }, robots: { online: 0 }, window: { finished: 0, successRate: null, durationMs: null } });
    expect(f.window).toMatchObject({ finished: 8, succeeded: 6, failed: 2, successRate: 0.75, truncated: false });
    expect(f.window.durationMs).toEqual({ p50: percentile(durations, 50), p90: percentile(durations, 90), p99: percentile(durations, 99) });
    const p = f.window.durationMs;
    expect(p && p.p50 <= p.p90 && p.p90 <= p.p99).toBe(true);
    expect(p?.p99).toBeGreaterThanOrEqual(600);
    expect(p?.p50).toBeGreaterThanOrEqual(0);
    expect(p?.p50).toBeLessThan(600);
    expect(botRow?.window).toEqual(f.window);
  });

  it('covers the namespaces a key may see, and only those', async () => {
    const all = await fleet('/api/v1/fleet');
    expect(all.namespaces).toEqual(['*']);
    expect(all.queues.map((q) => q.queue)).toEqual(['default.bot', 'default.idle-bot', 'team-a.other']);
    expect(all.jobs.waiting).toBe(4);
    expect(all.robots.offline).toBe(2);
    const scoped = await fleet('/api/v1/fleet', 'teamA');
    expect(scoped.namespaces).toEqual(['team-a']);
    expect(scoped.queues.map((q) => q.queue)).toEqual(['team-a.other']);
    expect(scoped.robots).toEqual({ online: 0, busy: 0, idle: 0, draining: 0, offline: 1 });
    expect((await api.app.inject({ method: 'GET', url: '/api/v1/namespaces/default/fleet', headers: auth('teamA') })).statusCode).toBe(403);
    expect((await api.app.inject({ method: 'GET', url: '/api/v1/fleet' })).statusCode).toBe(401);
  });

  it('limits the statistics to the window', async () => {
    await new Promise((r) => setTimeout(r, 1_100));
    const f = await fleet('/api/v1/namespaces/default/fleet?window=1');
    expect(f.window).toEqual({ finished: 0, succeeded: 0, failed: 0, successRate: null, durationMs: null, truncated: false });
    expect(f.jobs.completed).toBe(6);
    const tooLong = await api.app.inject({ method: 'GET', url: `/api/v1/fleet?window=${7 * 86_400 + 1}`, headers: auth('viewer') });
    expect(tooLong.statusCode).toBe(400);
  });

  it('exports queue depths as rpa_queue_jobs on /metrics, read on scrape', async () => {
    const body = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toContain('rpa_queue_jobs{namespace="default",robot="idle-bot",state="waiting"} 3');
    expect(body).toContain('rpa_queue_jobs{namespace="default",robot="bot",state="completed"} 6');
    expect(body).toContain('rpa_queue_jobs{namespace="default",robot="bot",state="failed"} 2');
    expect(body).toContain('rpa_queue_jobs{namespace="team-a",robot="other",state="waiting"} 1');
  });
});

describe('fleet arithmetic', () => {
  it('takes nearest-rank percentiles: always an observed value', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(xs, 50), percentile(xs, 90), percentile(xs, 99)]).toEqual([50, 90, 99]);
    expect([percentile([7], 50), percentile([7], 99)]).toEqual([7, 7]);
    expect([percentile([1, 2, 3], 50), percentile([1, 2, 3], 99)]).toEqual([2, 3]);
  });
});
