import type { Redis } from 'ioredis';
import { type DataPlaneSettings, keys } from '../core/queue.js';

/** Entries kept per namespace; older ones fall off (their jobs are long gone from BullMQ anyway). */
export const JOB_INDEX_MAX_ENTRIES = 200_000;

export interface IndexCursor {
  /** Creation time (ms) of the last entry returned. */
  score: number;
  id: string;
}

/**
 * Every job of a namespace by creation time, newest first, for listing across the namespace's
 * queues. Written at submit; entries whose job expired are dropped when a page finds them gone.
 */
export class JobIndex {
  constructor(
    private readonly redis: Redis,
    private readonly settings: DataPlaneSettings,
    private readonly maxEntries = JOB_INDEX_MAX_ENTRIES,
  ) {}

  async add(namespace: string, id: string, createdMs: number): Promise<void> {
    const key = keys.jobIndex(this.settings, namespace);
    // Two plain commands sent back to back: the trim need not be atomic with the add, and an ioredis
    // MULTI builds a Pipeline copying every command BullMQ defined on the connection, per submit.
    await Promise.all([this.redis.zadd(key, 'NX', createdMs, id), this.redis.zremrangebyrank(key, 0, -(this.maxEntries + 1))]);
  }

  /**
   * Up to `limit` ids older than the cursor (all when none). Equal scores are ordered by id,
   * descending, so a cursor in the middle of a millisecond neither repeats nor skips entries.
   */
  async page(namespace: string, limit: number, after?: IndexCursor): Promise<{ id: string; score: number }[]> {
    const key = keys.jobIndex(this.settings, namespace);
    const max = after ? String(after.score) : '+inf';
    const out: { id: string; score: number }[] = [];
    // Entries tied with the cursor's score come first and are skipped here; read on until the page is full.
    for (let offset = 0; out.length < limit; ) {
      const batch = limit + 64;
      const raw = await this.redis.zrevrangebyscore(key, max, '-inf', 'WITHSCORES', 'LIMIT', offset, batch);
      for (let i = 0; i + 1 < raw.length && out.length < limit; i += 2) {
        const id = raw[i] ?? '';
        const score = Number(raw[i + 1]);
        // Equal scores come by member, descending: the cursor's order.
        if (after && score === after.score && id >= after.id) continue;
        out.push({ id, score });
      }
      if (raw.length < batch * 2) break;
      offset += batch;
    }
    return out;
  }

  async remove(namespace: string, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.zrem(keys.jobIndex(this.settings, namespace), ...ids);
  }
}
