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
    const args: Array<string | number> = ['COUNT', opts.count ?? 100];
    if (opts.blockMs !== undefined) args.push('BLOCK', opts.blockMs);
    const res = (await this.redis.call('XREAD', ...args, 'STREAMS', keys.events(this.settings), after)) as Array<[string, Array<[string, string[]]>]> | null;
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
