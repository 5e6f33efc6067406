import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../core/queue.js';
import { chain, JobClient, newRedis, payload, testDataPlane } from '../test/helpers/dataplane.js';
import { type IndexCursor, JobIndex } from './job-index.js';

const redis = newRedis();
afterAll(() => redis.disconnect());

/** Every id of a namespace, page by page, following each page's last entry as the cursor. */
async function readAll(index: JobIndex, namespace: string, pageSize: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: IndexCursor | undefined;
  for (;;) {
    const page = await index.page(namespace, pageSize, cursor);
    if (page.length === 0) return ids;
    ids.push(...page.map((e) => e.id));
    const last = page[page.length - 1];
    if (last) cursor = { score: last.score, id: last.id };
  }
}

describe('JobIndex (real Redis)', () => {
  it('pages newest first without repeats or gaps, also through many jobs created in the same millisecond', async () => {
    const index = new JobIndex(redis, testDataPlane());
    // 30 ties at one score straddle page boundaries; the rest have scores of their own.
    const ties = Array.from({ length: 30 }, (_, i) => `tie-${String(i).padStart(2, '0')}`);
    const solos = Array.from({ length: 25 }, (_, i) => `solo-${i}`);
    for (const id of ties) await index.add('ns', id, 5_000);
    for (const [i, id] of solos.entries()) await index.add('ns', id, 1_000 + i);
    const expected = [...[...ties].reverse(), ...[...solos].reverse()];
    for (const pageSize of [1, 7, 50, 500]) expect(await readAll(index, 'ns', pageSize)).toEqual(expected);
  });

  it('keeps namespaces and key prefixes apart', async () => {
    const settings = testDataPlane();
    const a = new JobIndex(redis, settings);
    const other = new JobIndex(redis, testDataPlane());
    await a.add('one', 'j1', 1);
    await a.add('two', 'j2', 2);
    await other.add('one', 'j3', 3);
    expect(await readAll(a, 'one', 10)).toEqual(['j1']);
    expect(await readAll(a, 'two', 10)).toEqual(['j2']);
    expect(await readAll(other, 'one', 10)).toEqual(['j3']);
    expect(await redis.exists(keys.jobIndex(settings, 'one'))).toBe(1);
  });

  it('is bounded: the oldest entries fall off, and a re-added id keeps its first time', async () => {
    const index = new JobIndex(redis, testDataPlane(), 3);
    for (let i = 1; i <= 5; i++) await index.add('ns', `j${i}`, i);
    await index.add('ns', 'j5', 100);
    expect(await readAll(index, 'ns', 10)).toEqual(['j5', 'j4', 'j3']);
    await index.remove('ns', ['j4', 'missing']);
    await index.remove('ns', []);
    expect(await readAll(index, 'ns', 10)).toEqual(['j5', 'j3']);
  });

  it('is written by JobClient.submit for every job, once per job id', async () => {
    const settings = testDataPlane();
    const client = new JobClient(redis, settings);
    try {
      const spec = chain([]);
      await client.submit({ queue: 'finance.invoices', jobId: 'cr-uid-1', payload: payload(spec, { source: { kind: 'cr', namespace: 'finance' } }) });
      await client.submit({ queue: 'finance.invoices', jobId: 'cr-uid-1', payload: payload(spec) });
      await client.submit({ queue: 'hr.onboarding', jobId: 'other', payload: payload(spec) });
      expect(await readAll(client.index, 'finance', 10)).toEqual(['cr-uid-1']);
      expect(await readAll(client.index, 'hr', 10)).toEqual(['other']);
    } finally {
      await client.close();
    }
  });
});
