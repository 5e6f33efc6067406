import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type Reconcile, WorkQueue } from './workqueue.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
  const match = values.find((v) => (v.metricName === undefined || v.metricName === name) && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return match?.value ?? 0;
}

describe('WorkQueue', () => {
  it('queues a key added several times while waiting only once', async () => {
    const seen: string[] = [];
    const q = new WorkQueue({ name: 'dedupe', reconcile: async (key) => void seen.push(key) });
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    expect(q.depth).toBe(2);
    q.start();
    await until('both keys', () => seen.length === 2);
    await sleep(20);
    expect(seen).toEqual(['a', 'b']);
    await q.shutdown();
  });

  it('never processes one key concurrently and re-queues a key added while it is processed', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const reconcile: Reconcile = async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      runs += 1;
      await sleep(30);
      active -= 1;
    };
    const q = new WorkQueue({ name: 'serial', reconcile, workers: 4 });
    q.start();
    q.add('k');
    await until('first run', () => runs === 1);
    q.add('k');
    q.add('k');
    await until('second run', () => runs === 2);
    await sleep(80);
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
    await q.shutdown();
  });

  it('runs distinct keys in parallel up to the worker count', async () => {
    let active = 0;
    let maxActive = 0;
    const q = new WorkQueue({
      name: 'parallel',
      workers: 3,
      reconcile: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await sleep(20);
        active -= 1;
      },
    });
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    q.start();
    await sleep(100);
    expect(maxActive).toBe(3);
    await q.shutdown();
  });

  it('retries a failing key with exponential backoff and forgets it after a success', async () => {
    const registry = new Registry();
    const times: number[] = [];
    let failuresLeft = 5;
    const q = new WorkQueue({
      name: 'backoff',
      baseDelayMs: 10,
      registry,
      reconcile: async () => {
        times.push(performance.now());
        if (failuresLeft-- > 0) throw new Error('boom');
      },
    });
    expect([0, 1, 2, 3].map((n) => q.backoffFor(n))).toEqual([10, 20, 40, 80]);
    q.start();
    q.add('x');
    await until('six attempts', () => times.length === 6, 3_000);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    // Delays 10, 20, 40, 80, 160 ms: each gap at least its delay, and growing.
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(10 * 2 ** i - 2));
    expect(gaps[4]).toBeGreaterThan(gaps[0] ?? Infinity);
    expect(q.numRequeues('x')).toBe(0);
    expect(await metricValue(registry, 'workqueue_retries_total', { name: 'backoff' })).toBe(5);
    expect(await metricValue(registry, 'controller_runtime_reconcile_total', { controller: 'backoff', result: 'error' })).toBe(5);
    expect(await metricValue(registry, 'controller_runtime_reconcile_total', { controller: 'backoff', result: 'success' })).toBe(1);
    await q.shutdown();
  });

  it('caps the backoff at maxDelayMs', () => {
    const q = new WorkQueue({ name: 'cap', reconcile: async () => {}, baseDelayMs: 5, maxDelayMs: 100 });
    expect(q.backoffFor(10)).toBe(100);
    expect(new WorkQueue({ name: 'cap2', reconcile: async () => {} }).backoffFor(40)).toBe(1_000_000);
  });

  it('requeues after requeueAfter and counts requeue_after results', async () => {
    const registry = new Registry();
    const times: number[] = [];
    const q = new WorkQueue({
      name: 'after',
      registry,
      reconcile: async () => {
        times.push(performance.now());
        return times.length < 3 ? { requeueAfter: 40 } : undefined;
      },
    });
    q.start();
    q.add('r');
    await until('three runs', () => times.length === 3);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(38);
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBeGreaterThanOrEqual(38);
    expect(await metricValue(registry, 'controller_runtime_reconcile_total', { controller: 'after', result: 'requeue_after' })).toBe(2);
    expect(await metricValue(registry, 'workqueue_adds_total', { name: 'after' })).toBe(3);
    await q.shutdown();
  });

  it('waits for in-flight work on shutdown and drops delayed adds', async () => {
    let finished = 0;
    let runs = 0;
    const q = new WorkQueue({
      name: 'shutdown',
      reconcile: async () => {
        runs += 1;
        await sleep(50);
        finished += 1;
        return { requeueAfter: 10 };
      },
    });
    q.start();
    q.add('s');
    await until('a run', () => runs === 1);
    await q.shutdown();
    expect(finished).toBe(1);
    q.add('s');
    await sleep(40);
    expect(runs).toBe(1);
  });

  it('lets several queues share one registry, each under its own name', async () => {
    const registry = new Registry();
    const a = new WorkQueue({ name: 'robots', registry, reconcile: async () => {} });
    const b = new WorkQueue({ name: 'jobs', registry, reconcile: async () => {} });
    a.add('x');
    b.add('y');
    b.add('z');
    expect(await metricValue(registry, 'workqueue_depth', { name: 'robots' })).toBe(1);
    expect(await metricValue(registry, 'workqueue_depth', { name: 'jobs' })).toBe(2);
  });

  it('exports workqueue_depth', async () => {
    const registry = new Registry();
    const q = new WorkQueue({ name: 'depth', registry, reconcile: async () => {} });
    q.add('a');
    q.add('b');
    expect(await metricValue(registry, 'workqueue_depth', { name: 'depth' })).toBe(2);
    q.start();
    await until('drained', () => q.depth === 0);
    expect(await metricValue(registry, 'workqueue_depth', { name: 'depth' })).toBe(0);
    await q.shutdown();
  });
});
