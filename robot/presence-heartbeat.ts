import { cpus, freemem, hostname, totalmem } from 'node:os';
import type { RobotPresence } from '../core/presence.js';
import type { PresenceStore } from '../dataplane/presence.js';
import type { RobotConfig } from './config.js';

const TOUCH_SPACING_MS = 1_000;

/** Keeps this robot's presence key alive; when the process dies, the key expires on its own. */
export class PresenceHeartbeat {
  private timer?: NodeJS.Timeout;
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private readonly startedAt = new Date().toISOString();
  private pending?: NodeJS.Timeout;
  private lastBeat = 0;
  draining = false;

  constructor(
    private readonly store: PresenceStore,
    private readonly cfg: RobotConfig,
    private readonly runningJobs: () => string[],
    private readonly version: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.cfg.dataPlane.heartbeatIntervalMs);
    this.timer.unref();
  }

  snapshot(): RobotPresence {
    const cpu = process.cpuUsage(this.lastCpu);
    const now = performance.now();
    const elapsedMs = Math.max(1, now - this.lastAt);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const cores = cpus().length || 1;
    const mem = process.memoryUsage();
    return {
      id: this.cfg.id,
      robot: this.cfg.name,
      namespace: this.cfg.namespace,
      mode: this.cfg.mode,
      host: hostname(),
      pid: process.pid,
      version: this.version,
      capabilities: this.cfg.capabilities,
      concurrency: this.cfg.concurrency,
      runningJobs: this.runningJobs(),
      draining: this.draining,
      cpu: { percent: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs / cores) * 1000) / 10, cores },
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, totalBytes: totalmem(), freeBytes: freemem() },
      startedAt: this.startedAt,
      lastHeartbeat: new Date().toISOString(),
    };
  }

  /**
   * Refreshes presence soon after a job starts or ends, at most once a second, so readers
   * see running jobs without every short job paying for a write.
   */
  touch(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.lastBeat + TOUCH_SPACING_MS - performance.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.beat();
    }, wait);
    this.pending.unref();
  }

  async beat(): Promise<void> {
    this.lastBeat = performance.now();
    try {
      await this.store.beat(this.snapshot());
    } catch (err) {
      this.onError(err);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.pending);
    await this.store.remove(this.cfg.id).catch(this.onError);
  }
}
