import type { Redis } from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import {
  compareStreamIds,
  type EventFilter,
  matches,
  type PresenceMessage,
  presenceChanges,
  type ProgressMessage,
  toProgressMessage,
} from '../core/api-events.js';
import { progressEvent } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { perRegistry } from '../core/per-registry.js';
import type { RobotPresence } from '../core/presence.js';
import { type DataPlaneSettings, keys } from '../core/queue.js';
import { PresenceStore } from '../dataplane/presence.js';

export const EVENTS_DEFAULTS = {
  /** How long one XREAD of the shared reader waits for new entries. */
  blockMs: 5_000,
  /** Stream entries per read (an entry is one robot flush, a few events). */
  readCount: 500,
  /** How often presence is compared with the last snapshot to report joined, left and changed robots. */
  presencePollMs: 2_000,
  /** Bytes a client may leave unsent before it is dropped as too slow (WebSocket 1013, SSE connection ended). */
  maxBufferedBytes: 1024 * 1024,
  /** Reconnect delay suggested to SSE clients (`retry:`). */
  sseRetryMs: 3_000,
  /** SSE comment or WebSocket ping on idle streams, so proxies keep them open. */
  keepAliveMs: 15_000,
  /** How often a subscriber's key is looked up again; a revoked or narrowed key ends its stream. */
  keyRecheckMs: 60_000,
  /** Stream entries a resume (Last-Event-ID) reads back at most. */
  maxReplayEntries: 10_000,
  /** Pause after a failed read before the shared reader tries again. */
  readRetryMs: 1_000,
};
export type EventsOptions = typeof EVENTS_DEFAULTS;

export type FeedMessage = ProgressMessage | PresenceMessage;
export type Transport = 'websocket' | 'sse';
export type CloseReason = 'slow' | 'shutdown' | 'unauthorized' | 'forbidden' | 'error';

export const eventsMetrics = perRegistry((registers) => ({
  subscribers: new Gauge({ name: 'rpa_events_subscribers', help: 'Clients subscribed to the live events feed', labelNames: ['transport'], registers }),
  dropped: new Counter({ name: 'rpa_events_dropped_total', help: 'Live events clients dropped by the server, by reason', labelNames: ['transport', 'reason'], registers }),
}));

function decodeEntry(id: string, fields: string[]): ProgressMessage[] {
  const at = fields.indexOf('e');
  let raw: unknown;
  try {
    raw = JSON.parse(at >= 0 ? (fields[at + 1] ?? '[]') : '[]');
  } catch {
    return [];
  }
  const out: ProgressMessage[] = [];
  for (const item of Array.isArray(raw) ? raw : [raw]) {
    const parsed = progressEvent.safeParse(item);
    const m = parsed.success ? toProgressMessage(id, parsed.data) : undefined;
    if (m) out.push(m);
  }
  return out;
}

export interface Subscriber {
  readonly filter: EventFilter;
  deliver(m: FeedMessage): void;
}

interface Run {
  reader: Redis;
  lastId: string;
  presence: Map<string, RobotPresence>;
  timer?: NodeJS.Timeout;
}

/**
 * One reader of the events stream per API process, however many clients listen: a blocking XREAD
 * on a connection of its own, fanned out in memory, plus a presence poll. It runs while anyone
 * is subscribed.
 */
export class EventHub {
  private readonly subs = new Set<Subscriber>();
  private readonly presence: PresenceStore;
  private starting?: Promise<Run>;
  private run?: Run;

  constructor(
    private readonly redis: Redis,
    private readonly settings: DataPlaneSettings,
    private readonly opts: EventsOptions,
    private readonly log: Pick<Logger, 'warn'>,
  ) {
    this.presence = new PresenceStore(redis, settings);
  }

  get size(): number {
    return this.subs.size;
  }

  /** Resolves to the last stream id read before `sub` joined: it receives every entry after it. */
  async subscribe(sub: Subscriber): Promise<string> {
    for (;;) {
      const starting = (this.starting ??= this.start());
      const run = await starting;
      // The last subscriber may have left while this one waited, stopping that run.
      if (this.starting !== starting) continue;
      this.subs.add(sub);
      return run.lastId;
    }
  }

  unsubscribe(sub: Subscriber): void {
    if (this.subs.delete(sub) && this.subs.size === 0) this.stop();
  }

  /** Stream entries after `after` up to `upTo`, oldest first: what a resuming client missed. */
  async replay(after: string, upTo: string, deliver: (m: ProgressMessage) => void): Promise<void> {
    let cursor = after;
    let read = 0;
    while (read < this.opts.maxReplayEntries && compareStreamIds(cursor, upTo) < 0) {
      const entries = await this.redis.xrange(keys.events(this.settings), `(${cursor}`, upTo, 'COUNT', this.opts.readCount);
      if (entries.length === 0) return;
      for (const [id, fields] of entries) {
        cursor = id;
        read++;
        for (const m of decodeEntry(id, fields)) deliver(m);
      }
    }
  }

  close(): void {
    this.subs.clear();
    this.stop();
  }

  private start(): Promise<Run> {
    const started = (async () => {
      const reader = this.redis.duplicate({ enableAutoPipelining: false, maxRetriesPerRequest: null });
      try {
        const [latest] = await this.redis.xrevrange(keys.events(this.settings), '+', '-', 'COUNT', 1);
        const present = await this.presence.list();
        const run: Run = { reader, lastId: latest?.[0] ?? '0-0', presence: new Map(present.map((p) => [p.id, p])) };
        this.run = run;
        void this.readLoop(run);
        run.timer = setInterval(() => void this.pollPresence(run), this.opts.presencePollMs);
        run.timer.unref();
        return run;
      } catch (err) {
        reader.disconnect();
        throw err;
      }
    })();
    // A failed start must not stick: the next subscriber tries again.
    started.catch(() => {
      if (this.starting === started) this.starting = undefined;
    });
    return started;
  }

  private stop(): void {
    const run = this.run;
    this.starting = undefined;
    this.run = undefined;
    if (!run) return;
    clearInterval(run.timer);
    // Ends the pending XREAD BLOCK at once.
    run.reader.disconnect();
  }

  private async readLoop(run: Run): Promise<void> {
    const key = keys.events(this.settings);
    while (this.run === run) {
      let res: Array<[string, Array<[string, string[]]>]> | null;
      try {
        res = await run.reader.xread('COUNT', this.opts.readCount, 'BLOCK', this.opts.blockMs, 'STREAMS', key, run.lastId);
      } catch (err) {
        if (this.run !== run) return;
        this.log.warn({ err }, 'reading the events stream failed; retrying');
        await new Promise((r) => setTimeout(r, this.opts.readRetryMs));
        continue;
      }
      if (this.run !== run) return;
      for (const [, entries] of res ?? []) {
        for (const [id, fields] of entries) {
          run.lastId = id;
          for (const m of decodeEntry(id, fields)) this.dispatch(m);
        }
      }
    }
  }

  private async pollPresence(run: Run): Promise<void> {
    let now: RobotPresence[];
    try {
      now = await this.presence.list();
    } catch (err) {
      this.log.warn({ err }, 'reading presence failed');
      return;
    }
    if (this.run !== run) return;
    const after = new Map(now.map((p) => [p.id, p]));
    const changes = presenceChanges(run.presence, after);
    run.presence = after;
    for (const m of changes) this.dispatch(m);
  }

  private dispatch(m: FeedMessage): void {
    // Copied: a delivery may drop its subscriber, which edits the set.
    for (const s of [...this.subs]) if (matches(s.filter, m)) s.deliver(m);
  }
}

