import type { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import type { DataPlaneSettings } from '../../core/queue.js';
import { JobClient } from '../../dataplane/jobs.js';

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface DepthWatcherOptions {
  /** Events within this window cause one count, so a burst of 1,000 adds costs a few reads. */
  debounceMs?: number;
  /** How long one blocking read waits; also how soon a newly watched queue is picked up. */
  blockMs?: number;
  /** Full recount of every watched queue, in case an event was lost (Redis restart, trimmed stream). */
  resyncMs?: number;
  logger?: Logger;
}

const DEFAULTS = { debounceMs: 20, blockMs: 1_000, resyncMs: 30_000 };

/** BullMQ events that can change a queue's depth; progress and log events cannot. */
const DEPTH_EVENTS = new Set(['added', 'waiting', 'active', 'completed', 'failed', 'delayed', 'removed', 'stalled', 'retries-exhausted', 'drained', 'cleaned', 'paused', 'resumed', 'duplicated', 'deduplicated', 'waiting-children', 'prioritized']);

/**
 * Reports queue depth when it changes, from BullMQ's own event streams: one blocking XREAD over
 * every watched queue's stream (one connection, however many Robots), debounced per queue, plus a
 * periodic recount. This is what makes scaling event-driven instead of polled.
 */
export class QueueDepthWatcher {
  private readonly opts: Required<Omit<DepthWatcherOptions, 'logger'>> & Pick<DepthWatcherOptions, 'logger'>;
  private readonly lastIds = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly client: JobClient;
  private running = false;
  private loop?: Promise<void>;
  private resync?: NodeJS.Timeout;

  constructor(
    /** Used for counts. */
    private readonly redis: Redis,
    /** Dedicated to the blocking read: a blocked connection serves nothing else. */
    private readonly blocking: Redis,
    private readonly settings: DataPlaneSettings,
    private readonly onDepth: (queue: string, depth: QueueDepth) => void,
    options: DepthWatcherOptions = {},
  ) {
    this.opts = { ...DEFAULTS, ...options };
    this.client = new JobClient(redis, settings);
  }

  /** Starts reporting for `queue`: at once with its current depth, then on every change. */
  watch(queue: string): void {
    if (this.lastIds.has(queue)) return;
    // '$' would race the first read; the current time as an id skips history and misses nothing after now.
    this.lastIds.set(queue, `${Date.now()}-0`);
    this.schedule(queue, 0);
  }

  unwatch(queue: string): void {
    this.lastIds.delete(queue);
    clearTimeout(this.timers.get(queue));
    this.timers.delete(queue);
  }

  watched(): string[] {
    return [...this.lastIds.keys()];
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.readLoop();
    this.resync = setInterval(() => {
      for (const q of this.lastIds.keys()) this.schedule(q, 0);
    }, this.opts.resyncMs);
    this.resync.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.resync);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.loop;
    await this.client.close();
  }

  private streamKey(queue: string): string {
    return `${this.settings.prefix}:${queue}:events`;
  }

  private async readLoop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const queues = [...this.lastIds.keys()];
      if (queues.length === 0) {
        await new Promise((r) => setTimeout(r, Math.min(this.opts.blockMs, 200)));
        continue;
      }
      try {
        const ids = queues.map((q) => this.lastIds.get(q) ?? '$');
        const res = await this.blocking.xread('COUNT', 1_000, 'BLOCK', this.opts.blockMs, 'STREAMS', ...queues.map((q) => this.streamKey(q)), ...ids);
        failures = 0;
        for (const [key, entries] of res ?? []) {
          const queue = queues.find((q) => this.streamKey(q) === key);
          if (!queue || !this.lastIds.has(queue)) continue;
          let relevant = false;
          for (const [id, fields] of entries) {
            this.lastIds.set(queue, id);
            const event = fields[fields.indexOf('event') + 1];
            if (event !== undefined && DEPTH_EVENTS.has(event)) relevant = true;
          }
          if (relevant) this.schedule(queue, this.opts.debounceMs);
        }
      } catch (err) {
        if (!this.running) break;
        failures++;
        this.opts.logger?.warn({ err }, 'queue event read failed; retrying');
        // Exponential backoff with jitter, capped at 10 s, so a Redis outage is not hammered.
        await new Promise((r) => setTimeout(r, Math.min(10_000, 100 * 2 ** failures) * (0.5 + Math.random() / 2)));
      }
    }
  }

  /** Counts `queue` after `delayMs`, once however many events arrive meanwhile. */
  private schedule(queue: string, delayMs: number): void {
    if (this.timers.has(queue)) return;
    const t = setTimeout(() => {
      this.timers.delete(queue);
      if (!this.lastIds.has(queue)) return;
      this.client.counts(queue).then(
        (c) => {
          if (this.lastIds.has(queue)) this.onDepth(queue, { waiting: c.waiting, active: c.active, delayed: c.delayed, failed: c.failed });
        },
        (err: unknown) => this.opts.logger?.warn({ err, queue }, 'queue count failed'),
      );
    }, delayMs);
    this.timers.set(queue, t);
  }
}
