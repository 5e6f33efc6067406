import type { Redis } from 'ioredis';
import { type ProgressEvent, progressEvent } from '../core/events.js';
import { type DataPlaneSettings, keys } from '../core/queue.js';

/**
 * Progress events go to one capped Redis stream: readers can tail it live or read back
 * a little history, and its length stays bounded whatever the load. Events published within
 * `eventFlushMs` of each other share one stream entry (a JSON list), so a busy robot pays one
 * Redis command per flush rather than one per event.
 */
export class EventLog {
  private pending: ProgressEvent[] = [];
  private flushing?: Promise<void>;

  constructor(
    private readonly redis: Redis,
    private readonly settings: DataPlaneSettings,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  publish(event: ProgressEvent): void {
    this.pending.push(event);
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, this.settings.eventFlushMs)).then(() => this.flush());
  }

  /** Writes what is pending now; resolves once it is in Redis. */
  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.flushing = undefined;
    if (batch.length === 0) return;
    try {
      await this.redis.xadd(keys.events(this.settings), 'MAXLEN', '~', this.settings.eventStreamMaxLen, '*', 'e', JSON.stringify(batch));
    } catch (err) {
      this.onError(err);
    }
  }

  /**
   * Reads events after stream id `after` ('0' for the oldest kept), waiting up to `blockMs`
   * for new ones. Events of one entry share its id: pass the last id seen to read on.
   */
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
        const raw: unknown = JSON.parse(fields[1] ?? '[]');
        for (const item of Array.isArray(raw) ? raw : [raw]) {
          const parsed = progressEvent.safeParse(item);
          if (parsed.success) out.push({ id, event: parsed.data });
        }
      }
    }
    return out;
  }
}
