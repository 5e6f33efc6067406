import { type Job, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { JobPayload, JobResult } from '../../core/job.js';
import type { DataPlaneSettings } from '../../core/queue.js';

/** A connected machine as the dispatcher sees it. */
export interface Taker {
  /** BullMQ lock token the machine's jobs are held under. */
  readonly lockToken: string;
  /** Jobs it can take now: 0 while draining or full. */
  freeSlots(): number;
  assign(job: Job<JobPayload, JobResult>): Promise<void>;
}

/**
 * Takes jobs from one Robot's queue for all the machines of that Robot connected to this API
 * process: one BullMQ worker (and so one blocking Redis connection) per queue rather than per
 * machine, so a fleet of idle machines costs sockets, not Redis connections. Each job is fetched
 * under the lock token of the machine with the most free slots, which then holds it.
 */
export class QueueDispatcher {
  private readonly takers = new Set<Taker>();
  private readonly worker: Worker<JobPayload, JobResult>;
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly queue: string,
    opts: { connection: Redis; settings: DataPlaneSettings; logger: FastifyBaseLogger },
    private readonly onEmpty: () => void,
  ) {
    const s = opts.settings;
    this.worker = new Worker<JobPayload, JobResult>(queue, null, {
      connection: opts.connection,
      prefix: s.prefix,
      lockDuration: s.lockDurationMs,
      stalledInterval: s.stalledIntervalMs,
      maxStalledCount: s.maxStalledCount,
      autorun: false,
    });
    this.worker.on('error', (err) => opts.logger.warn({ err: err.message, queue }, 'remote dispatcher worker error'));
    // Jobs whose machine vanished have their locks expire; the stalled check puts them back.
    void this.worker.startStalledCheckTimer();
    this.done = this.loop(opts.logger);
  }

  add(t: Taker): void {
    this.takers.add(t);
    this.nudge();
  }

  remove(t: Taker): void {
    this.takers.delete(t);
    if (this.takers.size === 0) void this.close();
    else this.nudge();
  }

  /** A machine freed a slot or stopped draining. */
  nudge(): void {
    this.wake?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.nudge();
    this.onEmpty();
    await this.worker.close(true).catch(() => undefined);
    await this.done;
  }

  private pick(): Taker | undefined {
    let best: Taker | undefined;
    for (const t of this.takers) if (t.freeSlots() > 0 && (!best || t.freeSlots() > best.freeSlots())) best = t;
    return best;
  }

  private async loop(logger: FastifyBaseLogger): Promise<void> {
    while (!this.closed) {
      const taker = this.pick();
      if (!taker) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      let job: Job<JobPayload, JobResult> | undefined;
      try {
        job = await this.worker.getNextJob(taker.lockToken, { block: true });
      } catch (err) {
        if (this.closed) break;
        logger.warn({ err: (err as Error).message, queue: this.queue }, 'could not fetch a job for remote robots; retrying');
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      if (!job) continue;
      // The machine may have gone or filled up while the fetch blocked: the job goes back, unrun.
      if (this.closed || !this.takers.has(taker) || taker.freeSlots() <= 0) {
        await job.moveToWait(taker.lockToken).catch(() => undefined);
        continue;
      }
      await taker.assign(job).catch((err: unknown) => logger.error({ err, job: job.id, queue: this.queue }, 'could not assign a job'));
    }
  }
}
