/**
 * A work queue with client-go's semantics: a key is queued at most once, never processed by two
 * workers at once (a key added while it is processed is queued again once it is done), and failed
 * keys come back with per-key exponential backoff. Reconcilers are level-triggered, so collapsing
 * many events for one key into one reconcile loses nothing.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../core/logger.js';
import { perRegistry } from '../../core/per-registry.js';

/** What a reconcile asks of the queue; an exception means "retry with backoff". */
export type ReconcileResult = { requeueAfter?: number; requeue?: boolean } | void;
export type Reconcile = (key: string) => Promise<ReconcileResult>;

export interface WorkQueueOptions {
  /** Controller name, the `name`/`controller` label of every metric. */
  name: string;
  reconcile: Reconcile;
  /** Concurrent workers (distinct keys only). Default 1. */
  workers?: number;
  /** First retry delay after a failure. Default 5 ms (client-go's default). */
  baseDelayMs?: number;
  /** Retry delay ceiling. Default 1000 s (client-go's default). */
  maxDelayMs?: number;
  /** Registry for the metrics; without one, metrics are kept but not exported. */
  registry?: Registry;
  logger?: Logger;
}

export const WORKQUEUE_DEFAULTS = { workers: 1, baseDelayMs: 5, maxDelayMs: 1_000_000 } as const;

interface Metrics {
  depth: Gauge;
  adds: Counter;
  queueDuration: Histogram;
  workDuration: Histogram;
  retries: Counter;
  reconcileTotal: Counter;
  reconcileTime: Histogram;
}

const durationBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60];

/** One set of metrics per registry: every controller's queue shares it under its own label. */
const metricsFor = perRegistry(createMetrics);

function createMetrics(registers: Registry[]): Metrics {
  return {
    depth: new Gauge({ name: 'workqueue_depth', help: 'Current depth of the work queue', labelNames: ['name'], registers }),
    adds: new Counter({ name: 'workqueue_adds_total', help: 'Total adds handled by the work queue', labelNames: ['name'], registers }),
    queueDuration: new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long an item stays in the work queue before being processed',
      labelNames: ['name'],
      buckets: durationBuckets,
      registers,
    }),
    workDuration: new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long processing an item from the work queue takes',
      labelNames: ['name'],
      buckets: durationBuckets,
      registers,
    }),
    retries: new Counter({ name: 'workqueue_retries_total', help: 'Total retries handled by the work queue', labelNames: ['name'], registers }),
    reconcileTotal: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total reconciliations per controller and result',
      labelNames: ['controller', 'result'],
      registers,
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: durationBuckets,
      registers,
    }),
  };
}

export class WorkQueue {
  private readonly opts: Required<Omit<WorkQueueOptions, 'registry' | 'logger'>>;
  private readonly logger: Logger | undefined;
  private readonly metrics: Metrics;
  /** FIFO of keys ready to process; `queued` mirrors it for O(1) dedupe and holds the enqueue time. */
  private readonly order: string[] = [];
  private readonly queued = new Map<string, number>();
  private readonly processing = new Set<string>();
  /** Keys added while being processed: they go back into the queue when their worker is done. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.opts = {
      name: options.name,
      reconcile: options.reconcile,
      workers: options.workers ?? WORKQUEUE_DEFAULTS.workers,
      baseDelayMs: options.baseDelayMs ?? WORKQUEUE_DEFAULTS.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? WORKQUEUE_DEFAULTS.maxDelayMs,
    };
    this.logger = options.logger;
    this.metrics = metricsFor(options.registry);
    // Exported from the start, so a dashboard shows an idle queue as 0 rather than no data.
    this.metrics.depth.set({ name: this.opts.name }, 0);
  }

  /** Number of keys waiting (not counting those being processed or delayed). */
  get depth(): number {
    return this.order.length;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.adds.inc({ name: this.opts.name });
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.set(key, performance.now());
    this.order.push(key);
    this.metrics.depth.set({ name: this.opts.name }, this.order.length);
    this.pump();
  }

  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.add(key);
    }, ms);
    this.timers.add(timer);
  }

  /** Re-adds the key after its next backoff delay: base * 2^failures, capped. */
  addRateLimited(key: string): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.metrics.retries.inc({ name: this.opts.name });
    this.addAfter(key, this.backoffFor(failures));
  }

  /** Delay the next addRateLimited of this key would use. */
  backoffFor(failures: number): number {
    return Math.min(this.opts.baseDelayMs * 2 ** failures, this.opts.maxDelayMs);
  }

  /** Resets the key's backoff: its next failure waits the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  start(): void {
    this.running = true;
    this.pump();
  }

  /** Stops taking new work, drops delayed adds and waits for in-flight reconciles to end. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private pump(): void {
    while (this.running && this.processing.size < this.opts.workers && this.order.length > 0) {
      const key = this.order.shift();
      if (key === undefined) break;
      const enqueuedAt = this.queued.get(key) ?? performance.now();
      this.queued.delete(key);
      this.metrics.depth.set({ name: this.opts.name }, this.order.length);
      this.metrics.queueDuration.observe({ name: this.opts.name }, (performance.now() - enqueuedAt) / 1000);
      this.processing.add(key);
      const work = this.process(key).finally(() => {
        this.inFlight.delete(work);
        this.processing.delete(key);
        if (this.dirty.delete(key)) this.add(key);
        this.pump();
      });
      this.inFlight.add(work);
    }
  }

  private async process(key: string): Promise<void> {
    const started = performance.now();
    const name = this.opts.name;
    try {
      const result = await this.opts.reconcile(key);
      const after = result?.requeueAfter;
      if (after === undefined && result?.requeue === true) {
        // controller-runtime's `Requeue: true`: retry with backoff without calling it an error.
        this.metrics.reconcileTotal.inc({ controller: name, result: 'requeue' });
        this.addRateLimited(key);
        return;
      }
      this.forget(key);
      if (after !== undefined && after > 0) {
        this.metrics.reconcileTotal.inc({ controller: name, result: 'requeue_after' });
        this.addAfter(key, after);
      } else {
        this.metrics.reconcileTotal.inc({ controller: name, result: 'success' });
      }
    } catch (error) {
      this.metrics.reconcileTotal.inc({ controller: name, result: 'error' });
      this.logger?.warn({ err: error, key, controller: name, failures: this.numRequeues(key) + 1 }, 'reconcile failed; retrying with backoff');
      this.addRateLimited(key);
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.metrics.workDuration.observe({ name }, seconds);
      this.metrics.reconcileTime.observe({ controller: name }, seconds);
    }
  }
}
