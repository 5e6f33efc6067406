import { Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../core/hash.js';
import { chain, eventually, JobClient, newRedis, payload, redisUrl, testDataPlane } from '../../test/helpers/dataplane.js';
import { type QueueDepth, QueueDepthWatcher } from './depth-watcher.js';

const settings = testDataPlane();
const redis = newRedis();
const blocking = newRedis();
const client = new JobClient(redis, settings);
const reports: Array<{ queue: string; depth: QueueDepth }> = [];
const watcher = new QueueDepthWatcher(redis, blocking, settings, (queue, depth) => reports.push({ queue, depth }), { blockMs: 200 });
const last = (queue: string) => reports.filter((r) => r.queue === queue).at(-1)?.depth;

afterAll(async () => {
  await watcher.stop();
  await client.close();
  redis.disconnect();
  blocking.disconnect();
});

describe('QueueDepthWatcher on a real Redis', () => {
  it('reports depth at once, after a burst (debounced), and as a worker drains the queue', async () => {
    watcher.watch('default.a');
    watcher.watch('default.b');
    watcher.start();
    await eventually(async () => (last('default.a') && last('default.b') ? true : undefined), 5_000, 'first reports');
    expect(last('default.a')).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });

    const spec = chain([{ id: 'hi', type: 'log', params: { message: 'hi' } }]);
    const before = reports.length;
    await Promise.all(
      Array.from({ length: 20 }, () => client.submit({ queue: 'default.a', payload: payload(spec, { workflow: { name: 't', spec, hash: contentHash(spec) } }) })),
    );
    await eventually(async () => (last('default.a')?.waiting === 20 ? true : undefined), 5_000, 'waiting 20');
    // Twenty adds, a handful of counts: the debounce merges a burst.
    expect(reports.slice(before).filter((r) => r.queue === 'default.a').length).toBeLessThanOrEqual(5);
    expect(last('default.b')?.waiting).toBe(0);

    const worker = new Worker('default.a', async () => ({ ok: true }), { connection: { url: redisUrl(), maxRetriesPerRequest: null }, prefix: settings.prefix, concurrency: 5 });
    await eventually(async () => (last('default.a')?.waiting === 0 && last('default.a')?.active === 0 ? true : undefined), 10_000, 'drained');
    await worker.close();
  });

  it('picks up a queue watched later and goes quiet for one unwatched', async () => {
    watcher.watch('default.late');
    await eventually(async () => (last('default.late') ? true : undefined), 5_000, 'late queue');
    const spec = chain([]);
    await client.submit({ queue: 'default.late', payload: payload(spec) });
    await eventually(async () => (last('default.late')?.waiting === 1 ? true : undefined), 5_000, 'late queue depth');

    watcher.unwatch('default.b');
    const count = reports.filter((r) => r.queue === 'default.b').length;
    await client.submit({ queue: 'default.b', payload: payload(spec) });
    await new Promise((r) => setTimeout(r, 500));
    expect(reports.filter((r) => r.queue === 'default.b').length).toBe(count);
    expect(watcher.watched().sort()).toEqual(['default.a', 'default.late']);
  });
});
