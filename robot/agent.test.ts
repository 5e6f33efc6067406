import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../core/queue.js';
import { CheckpointStore } from '../dataplane/checkpoints.js';
import { EventLog } from '../dataplane/events.js';
import { PresenceStore } from '../dataplane/presence.js';
import { HttpFixture } from '../test/helpers/http-fixture.js';
import { botQueue, chain, eventually, JobClient, newRedis, payload, startAgent, testDataPlane } from '../test/helpers/dataplane.js';
import type { RobotAgent } from './agent.js';

const settings = testDataPlane();
const redis = newRedis();
const client = new JobClient(redis, settings);
const http = new HttpFixture();
const agents: RobotAgent[] = [];

async function agent(overrides: Parameters<typeof startAgent>[1] = {}) {
  const a = await startAgent(settings, overrides);
  agents.push(a);
  return a;
}

beforeAll(() => http.start());
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop(200)));
});
afterAll(async () => {
  await client.close();
  redis.disconnect();
  await http.stop();
});

describe('robot agent on a real Redis', () => {
  it('runs a job, reports presence, events and logs, and returns the result', async () => {
    const a = await agent({ concurrency: 2, capabilities: ['browser', 'excel'] });
    const wf = chain([
      { id: 'hello', type: 'log', params: { message: 'hi {{ who }}' } },
      { id: 'hold', type: 'wait', params: { ms: 3000 } },
    ]);
    const { id } = await client.submit({ queue: a.queue, payload: payload(wf, { variables: { who: 'there' } }) });
    const presences = new PresenceStore(redis, settings);
    const busy = await eventually(async () => (await presences.list()).find((p) => p.runningJobs.includes(id)), 5_000, 'presence');
    expect(busy).toMatchObject({ robot: 'bot', namespace: 'default', capabilities: ['browser', 'excel'], concurrency: 2, mode: 'local' });
    const view = await client.waitFor(id, { timeoutMs: 10_000 });
    expect(view.state).toBe('succeeded');
    expect(view.result?.variables).toEqual({ who: 'there' });
    expect(view.result?.robot?.id).toBe(a.cfg.id);
    expect(await client.logs(id)).toEqual([expect.stringMatching(/INFO hello hi there$/)]);
    const events = (await new EventLog(redis, settings).read('0', { count: 1000 })).map((e) => e.event).filter((e) => e.jobId === id);
    expect(events.map((e) => `${e.type}${'nodeId' in e ? `:${e.nodeId}` : ''}`)).toEqual([
      'job.started',
      'node.started:hello',
      'node.finished:hello',
      'node.started:hold',
      'node.finished:hold',
      'job.finished',
    ]);
    expect(await redis.exists(keys.checkpoint(settings, a.queue, id))).toBe(0);
  });

  it('takes higher-priority jobs first', async () => {
    const queue = botQueue('prio');
    const order = [10, 90, 50, 100, 0];
    for (const p of order) {
      await client.submit({ queue, priority: p, payload: payload(chain([{ id: 'mark', type: 'http', params: { url: `${http.url}/prio/${p}` } }])) });
    }
    await agent({ name: 'prio', concurrency: 1 });
    await eventually(async () => (http.order.filter((p) => p.startsWith('/prio/')).length === 5 ? true : undefined), 10_000, 'five jobs');
    expect(http.order.filter((p) => p.startsWith('/prio/'))).toEqual(['/prio/100', '/prio/90', '/prio/50', '/prio/10', '/prio/0']);
  });

  it('fails a malformed payload with a clear error and goes on working', async () => {
    const a = await agent();
    await client.queue(a.queue).add('run', { v: 1, workflow: { name: 'bad' } } as never, { jobId: 'malformed-1' });
    await redis.set(keys.jobRef(settings, 'malformed-1'), JSON.stringify({ queue: a.queue }));
    const bad = await client.waitFor('malformed-1', { timeoutMs: 5_000 });
    expect(bad.state).toBe('failed');
    expect(bad.failedReason).toMatch(/invalid job payload: .*workflow.spec/);
    expect(bad.result?.error?.code).toBe('invalid_payload');

    const { id } = await client.submit({ queue: a.queue, payload: payload(chain([])) });
    expect((await client.waitFor(id, { timeoutMs: 5_000 })).state).toBe('succeeded');
  });

  it('rejects a job whose workflow or inputs are invalid, without retrying', async () => {
    const a = await agent();
    const spec = { nodes: [{ id: 'start', type: 'start' }, { id: 'x', type: 'nope' }], edges: [{ from: 'start', to: 'x' }], inputs: {} };
    const { id } = await client.submit({ queue: a.queue, retries: 3, payload: payload(spec as never) });
    const v = await client.waitFor(id, { timeoutMs: 5_000 });
    expect(v.state).toBe('failed');
    expect(v.result?.error).toMatchObject({ code: 'invalid_workflow', message: expect.stringContaining('node "x" type') });
    expect(v.attemptsMade).toBe(1);

    const typed = { ...chain([]), inputs: { count: { type: 'number' as const, required: true } } };
    const { id: id2 } = await client.submit({ queue: a.queue, payload: payload(typed, { variables: { count: 'many' } }) });
    expect((await client.waitFor(id2, { timeoutMs: 5_000 })).result?.error).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('count') });
  });

  it('cancels a running job within a second, and a queued one at once', async () => {
    const a = await agent();
    const { id } = await client.submit({ queue: a.queue, payload: payload(chain([{ id: 'long', type: 'wait', params: { seconds: 60 } }])) });
    await eventually(async () => ((await client.get(id))?.state === 'running' ? true : undefined), 5_000, 'running');
    const t0 = performance.now();
    expect(await client.cancel(id, 'operator changed their mind')).toBe('signalled');
    const v = await client.waitFor(id, { timeoutMs: 5_000 });
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(v.state).toBe('cancelled');
    expect(v.result?.error?.message).toBe('operator changed their mind');
    expect(v.attemptsMade).toBe(1);

    const idle = botQueue('nobody-home');
    const { id: queued } = await client.submit({ queue: idle, payload: payload(chain([])) });
    expect(await client.cancel(queued)).toBe('cancelled');
    expect((await client.get(queued))?.state).toBe('cancelled');
    expect((await client.counts(idle)).waiting).toBe(0);
    expect(await client.cancel('no-such-job')).toBe('not_found');
  });

  it('runs a job id once however often it is submitted', async () => {
    const a = await agent();
    const wf = chain([{ id: 'once', type: 'http', params: { url: `${http.url}/idem` } }]);
    const first = await client.submit({ queue: a.queue, jobId: 'order-42', payload: payload(wf) });
    const again = await client.submit({ queue: a.queue, jobId: 'order-42', payload: payload(wf) });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    await client.waitFor('order-42', { timeoutMs: 5_000 });
    await client.submit({ queue: a.queue, jobId: 'order-42', payload: payload(wf) });
    await new Promise((r) => setTimeout(r, 200));
    expect(http.count('/idem')).toBe(1);
  });

  it('retries a failed job with backoff, resuming after the nodes that finished', async () => {
    const a = await agent();
    http.failNext('/jr/2', 1);
    const wf = chain([
      { id: 'one', type: 'http', params: { url: `${http.url}/jr/1` } },
      { id: 'two', type: 'http', params: { url: `${http.url}/jr/2` } },
    ]);
    const { id } = await client.submit({ queue: a.queue, retries: 2, payload: payload(wf) });
    const v = await client.waitFor(id, { timeoutMs: 10_000 });
    expect(v.state).toBe('succeeded');
    // BullMQ counts the successful attempt too.
    expect(v.attemptsMade).toBe(2);
    expect(v.result?.resumedAfter).toBe('one');
    expect(http.count('/jr/1')).toBe(1);
    expect(http.count('/jr/2')).toBe(2);
  });

  it('times a job out', async () => {
    const a = await agent();
    const { id } = await client.submit({ queue: a.queue, payload: payload(chain([{ id: 'long', type: 'wait', params: { seconds: 30 } }]), { timeoutSeconds: 1 }) });
    const v = await client.waitFor(id, { timeoutMs: 5_000 });
    expect(v.state).toBe('timed_out');
    expect(v.result?.error?.message).toContain('timed out after 1 s');
  });

  it('fails a job whose deadline passed while it waited', async () => {
    const a = await agent();
    const { id } = await client.submit({ queue: a.queue, payload: payload(chain([]), { deadline: new Date(Date.now() - 1000).toISOString() }) });
    expect((await client.waitFor(id, { timeoutMs: 5_000 })).result?.error?.code).toBe('deadline_exceeded');
  });

  it('drains on stop: a job still running after the grace period goes back with its checkpoint', async () => {
    const first = await agent();
    const wf = chain([
      { id: 'one', type: 'http', params: { url: `${http.url}/drain/1` } },
      { id: 'long', type: 'wait', params: { seconds: 3 } },
      { id: 'two', type: 'http', params: { url: `${http.url}/drain/2` } },
    ]);
    const { id } = await client.submit({ queue: first.queue, payload: payload(wf) });
    await eventually(async () => (http.count('/drain/1') === 1 ? true : undefined), 5_000, 'first node');
    await first.stop(100);
    const cp = await new CheckpointStore(redis, settings).load(first.queue, id);
    expect(cp?.finished).toContain('one');
    expect(['queued', 'retrying']).toContain((await client.get(id))?.state);

    await agent();
    const v = await client.waitFor(id, { timeoutMs: 10_000 });
    expect(v.state).toBe('succeeded');
    expect(http.count('/drain/1')).toBe(1);
    expect(http.count('/drain/2')).toBe(1);
  });

  it('serves Prometheus metrics', async () => {
    const a = await agent({ metricsPort: 0 });
    expect(a.metricsPort).toBeUndefined();
    const b = await agent({ name: 'metered', metricsPort: 19_000 + Math.floor(Math.random() * 1000) });
    const { id } = await client.submit({ queue: b.queue, payload: payload(chain([])) });
    await client.waitFor(id, { timeoutMs: 5_000 });
    const text = await (await fetch(`http://127.0.0.1:${b.metricsPort}/metrics`)).text();
    expect(text).toMatch(/rpa_robot_job_duration_seconds_count\{.*status="succeeded".*\} [1-9]/);
    expect(text).toMatch(/rpa_robot_running_jobs\{.*\} 0/);
    expect(text).toContain('rpa_robot_job_slots');
    expect(text).toContain('rpa_robot_dispatch_latency_seconds_bucket');
  });
});
