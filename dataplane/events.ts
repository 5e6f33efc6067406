import type { Redis } from 'ioredis';
import { type ProgressEvent, progressEvent } from '../core/events.js';
import { type DataPlaneSettings, keys } from '../core/queue.js';

/**
 * Progress events go to one capped Redis stream: readers can tail it live or read back
 * a little history, and its length stays bounded whatever the load.
 */
export class EventLog {
  constructor(
    private readonly redis: Redis,
    private readonly settings: DataPlaneSettings,
  ) {}

  publish(event: ProgressEvent): Promise<unknown> {
    return this.redis.xadd(keys.events(this.settings), 'MAXLEN', '~', this.settings.eventStreamMaxLen, '*', 'e', JSON.stringify(event));
  }

  /** Reads events after stream id `after` ('0' for the oldest kept), waiting up to `blockMs` for new ones. */
  async read(after: string, opts: { count?: number; blockMs?: number } = {}): Promise<Array<{ id: string; event: ProgressEvent }>> {
    const key = keys.events(this.settings);
    const count = opts.count ?? 100;
    // The typed xread normalises the reply; a raw call would get RESP3's map shape.
    const res =
      opts.blockMs === undefined
        ? await this.redis.xread('COUNT', count, 'STREAMS', key, after)
        : await this.redis.xread('COUNT', count, 'BLOCK', opts.blockMs, 'STREAMS', key, after);
    const out: Array<{ id: string; event: ProgressEvent }> = [];
    for (const [, entries] of res ?? []) {
      for (const [id, fields] of entries) {
        const parsed = progressEvent.safeParse(JSON.parse(fields[1] ?? 'null'));
        if (parsed.success) out.push({ id, event: parsed.data });
      }
    }
    return out;
  }
}
