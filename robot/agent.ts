import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobPayload, JobResult } from '../core/job.js';
import { createLogger, type Logger } from '../core/logger.js';
import { keys, queueName } from '../core/queue.js';
import { CheckpointStore } from '../dataplane/checkpoints.js';
import { EventLog } from '../dataplane/events.js';
import { PresenceStore } from '../dataplane/presence.js';
import { createRedis, pingRedis } from '../dataplane/redis.js';
import { BrowserPool } from './browser-pool.js';
import type { RobotConfig } from './config.js';
import { RunAborted } from './engine/errors.js';
import { RunningJobs } from './running-jobs.js';
import { RobotMetrics } from './metrics.js';
import { PresenceHeartbeat } from './presence-heartbeat.js';
import { createProcessor } from './processor.js';
import { VERSION } from '../core/version.js';
import { RecentCancels } from './recent-cancels.js';

/**
 * A robot process: takes jobs from its Robot's queue, runs them, keeps its presence fresh
 * and listens for cancellations. `stop()` drains: no new jobs, running ones get the grace
 * period, then go back to the queue with their checkpoints.
 */
export class RobotAgent {
  readonly queue: string;
  readonly logger: Logger;
  readonly metrics: RobotMetrics;
  metricsPort?: number;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly running = new RunningJobs();
  private readonly recentCancels = new RecentCancels();
  private readonly browsers: BrowserPool;
  private readonly events: EventLog;
  private worker?: Worker<JobPayload, JobResult>;
  private heartbeat?: PresenceHeartbeat;
  private stopping?: Promise<void>;

  constructor(readonly cfg: RobotConfig) {
    this.queue = queueName(cfg.namespace, cfg.name);
    this.logger = createLogger('robot', { robot: cfg.name, robotId: cfg.id, queue: this.queue });
    this.metrics = new RobotMetrics({ robot: cfg.name, namespace: cfg.namespace });
    this.metrics.runningNow = () => this.running.size;
    this.redis = createRedis(cfg.redisUrl);
    this.subscriber = createRedis(cfg.redisUrl, { enableAutoPipelining: false });
    this.browsers = new BrowserPool({ executablePath: cfg.chromiumPath, artifactsDir: cfg.artifactsDir });
    this.events = new EventLog(this.redis, cfg.dataPlane, (err) => this.logger.warn({ err }, 'could not publish events'));
  }

  async start(): Promise<void> {
    const { cfg } = this;
    await pingRedis(this.redis);
    await this.subscriber.subscribe(keys.cancelChannel(cfg.dataPlane));
    this.subscriber.on('message', (_channel: string, message: string) => this.onCancelMessage(message));

    const settings = cfg.dataPlane;
    const processor = createProcessor({
      cfg,
      queue: this.queue,
      redis: this.redis,
      checkpoints: new CheckpointStore(this.redis, settings),
      events: this.events,
      services: this.browsers,
      metrics: this.metrics,
      logger: this.logger,
      running: this.running,
      runningChanged: () => this.heartbeat?.touch(),
      cancelledLately: (jobId) => this.recentCancels.get(jobId),
    });
    this.worker = new Worker<JobPayload, JobResult>(this.queue, processor, {
      // BullMQ does not close a connection it was handed, so it gets options and owns its own.
      connection: { url: cfg.redisUrl, maxRetriesPerRequest: null },
      prefix: settings.prefix,
      concurrency: cfg.concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: settings.maxStalledCount,
      autorun: false,
    });
    this.worker.on('error', (err) => this.logger.error({ err }, 'worker error'));
    this.metrics.slots.set({ queue: this.queue }, cfg.concurrency);

    this.heartbeat = new PresenceHeartbeat(new PresenceStore(this.redis, settings), cfg, () => this.running.ids(), VERSION, (err) =>
      this.logger.warn({ err }, 'presence heartbeat failed'),
    );
    this.heartbeat.start();
    if (cfg.metricsPort > 0) this.metricsPort = await this.metrics.listen(cfg.metricsPort, cfg.metricsHost);
    void this.worker.run().catch((err: unknown) => this.logger.error({ err }, 'worker stopped'));
    await this.worker.waitUntilReady();
    this.logger.info({ concurrency: cfg.concurrency, capabilities: cfg.capabilities, metricsPort: this.metricsPort }, 'robot started');
  }

  runningJobs(): string[] {
    return this.running.ids();
  }

  private onCancelMessage(message: string): void {
    try {
      const { jobId, reason } = JSON.parse(message) as { jobId: string; reason?: string };
      this.recentCancels.add(jobId, reason ?? 'cancelled by request');
      const controller = this.running.controller(jobId);
      if (controller) {
        this.logger.info({ job: jobId }, 'cancelling running job');
        controller.abort(new RunAborted('cancelled', reason ?? 'cancelled by request'));
      }
    } catch (err) {
      this.logger.warn({ err, message }, 'ignoring malformed cancel message');
    }
  }

  /** Graceful stop, safe to call more than once. */
  stop(graceMs = this.cfg.shutdownGraceMs): Promise<void> {
    this.stopping ??= this.drain(graceMs);
    return this.stopping;
  }

  private async drain(graceMs: number): Promise<void> {
    const log = this.logger;
    if (this.heartbeat) this.heartbeat.draining = true;
    await this.heartbeat?.beat();
    log.info({ running: this.running.size, graceMs }, 'draining');
    const closing = this.worker?.close();
    const timer = setTimeout(() => {
      this.running.abortAll((jobId) => {
        log.warn({ job: jobId }, 'grace period over: checkpointing job back to the queue');
        return new RunAborted('shutdown', 'robot is shutting down');
      });
    }, graceMs);
    await closing?.catch((err: unknown) => log.warn({ err }, 'worker close failed'));
    clearTimeout(timer);
    await this.heartbeat?.stop();
    await this.events.flush();
    await this.browsers.close();
    await this.metrics.close();
    await this.subscriber.quit().catch(() => undefined);
    await this.redis.quit().catch(() => undefined);
    log.info('stopped');
    log.flush();
  }
}
