/**
 * Fleet overview (GET /api/v1/fleet, GET /api/v1/namespaces/:namespace/fleet): its query and
 * answer, and the pure arithmetic behind it.
 */
import { z } from 'zod';
import type { RobotPresence } from './presence.js';

export const FLEET_DEFAULTS = {
  windowSeconds: 3_600,
  maxWindowSeconds: 7 * 86_400,
  /** Finished jobs read per queue and per set (completed, failed) for the window statistics, newest first. */
  maxJobsScannedPerSet: 1_000,
} as const;

export const fleetQuery = z.object({
  window: z.coerce
    .number()
    .int()
    .min(1)
    .max(FLEET_DEFAULTS.maxWindowSeconds)
    .default(FLEET_DEFAULTS.windowSeconds)
    .describe('seconds of finished jobs the success rate and durations cover'),
});

/** BullMQ's counts, per queue: waiting includes prioritised jobs, delayed are mostly retries in backoff. */
export const queueCounts = z.object({
  waiting: z.number().int(),
  active: z.number().int(),
  delayed: z.number().int(),
  failed: z.number().int(),
  completed: z.number().int(),
});
export type QueueCounts = z.infer<typeof queueCounts>;
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const satisfies readonly (keyof QueueCounts)[];

const percentiles = z.object({ p50: z.number(), p90: z.number(), p99: z.number() });

export const windowStats = z.object({
  /** Finished jobs seen in the window (up to the scan bound per queue). */
  finished: z.number().int(),
  succeeded: z.number().int(),
  /** Failed, cancelled and timed out: everything in BullMQ's failed set. */
  failed: z.number().int(),
  /** succeeded / finished; null when nothing finished. */
  successRate: z.number().nullable(),
  /** Run time of the last attempt (BullMQ processedOn to finishedOn); null when nothing finished. */
  durationMs: percentiles.nullable(),
  /** True when a queue had more finished jobs in the window than were read. */
  truncated: z.boolean(),
});
export type WindowStats = z.infer<typeof windowStats>;

const robotCounts = z.object({
  /** Live robot instances (processes with fresh presence). */
  online: z.number().int(),
  /** Live instances running at least one job. */
  busy: z.number().int(),
  idle: z.number().int(),
  draining: z.number().int(),
  /** Robots (queues) that have jobs or history but no live instance. */
  offline: z.number().int(),
});

export const fleetQueue = z.object({
  namespace: z.string(),
  robot: z.string(),
  queue: z.string(),
  jobs: queueCounts,
  robots: robotCounts.omit({ offline: true }),
  window: windowStats,
});
export type FleetQueue = z.infer<typeof fleetQueue>;

export const fleetSummary = z
  .object({
    windowSeconds: z.number().int(),
    namespaces: z.array(z.string()).describe('namespaces covered; ["*"] for all'),
    robots: robotCounts,
    jobs: queueCounts,
    window: windowStats,
    queues: z.array(fleetQueue),
  })
  .meta({ id: 'Fleet' });
export type FleetSummary = z.infer<typeof fleetSummary>;

/** A finished job as the window statistics need it. */
export interface FinishedRun {
  ok: boolean;
  durationMs: number;
}

/** Nearest-rank percentile of ascending `sorted` (non-empty): an observed value, never an interpolation. */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? 0;
}

export function summarizeRuns(runs: readonly FinishedRun[], truncated: boolean): WindowStats {
  const succeeded = runs.filter((r) => r.ok).length;
  const sorted = runs.map((r) => r.durationMs).sort((a, b) => a - b);
  return {
    finished: runs.length,
    succeeded,
    failed: runs.length - succeeded,
    successRate: runs.length > 0 ? succeeded / runs.length : null,
    durationMs: sorted.length > 0 ? { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) } : null,
    truncated,
  };
}

export function robotCountsOf(instances: readonly RobotPresence[]): Omit<z.infer<typeof robotCounts>, 'offline'> {
  const busy = instances.filter((p) => p.runningJobs.length > 0).length;
  return { online: instances.length, busy, idle: instances.length - busy, draining: instances.filter((p) => p.draining).length };
}

export function addCounts(a: QueueCounts, b: QueueCounts): QueueCounts {
  return { waiting: a.waiting + b.waiting, active: a.active + b.active, delayed: a.delayed + b.delayed, failed: a.failed + b.failed, completed: a.completed + b.completed };
}
export const NO_JOBS: QueueCounts = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 };

/**
 * The queue named by a BullMQ key `<prefix>:<queue>:<suffix>`, when it is a robot queue
 * (`<namespace>.<robot>`); other keys under the prefix (presence, checkpoints, events) give undefined.
 */
export function queueOfKey(prefix: string, key: string, suffix: string): string | undefined {
  const head = `${prefix}:`;
  const tail = `:${suffix}`;
  if (!key.startsWith(head) || !key.endsWith(tail)) return undefined;
  const queue = key.slice(head.length, key.length - tail.length);
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[^:\s]+$/.test(queue) ? queue : undefined;
}

/** A SCAN MATCH pattern matching `text` literally. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
