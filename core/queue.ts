import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { DEFAULT_PRIORITY } from './job.js';

/** Every timing and limit of the data plane, named, with its default in this one place. */
export const dataPlaneSettings = z.object({
  /** BullMQ key prefix; queues of different installs on one Redis stay apart by prefix. */
  prefix: z.string().min(1).default('rpa'),
  /**
   * How long a robot's claim on a job lasts without renewal. A SIGKILLed robot's job is taken
   * again after at most lockDurationMs + stalledIntervalMs (15 s with these defaults).
   */
  lockDurationMs: z.number().int().min(1000).default(10_000),
  stalledIntervalMs: z.number().int().min(500).default(5_000),
  /** Crashes a job may survive before it is failed as poison. */
  maxStalledCount: z.number().int().min(0).default(3),
  completedRetention: z.object({ ageSeconds: z.number().int().min(1), count: z.number().int().min(0) }).default({ ageSeconds: 86_400, count: 1_000 }),
  failedRetention: z.object({ ageSeconds: z.number().int().min(1), count: z.number().int().min(0) }).default({ ageSeconds: 7 * 86_400, count: 5_000 }),
  /** First delay of the exponential backoff between job attempts. */
  retryBackoffMs: z.number().int().min(0).default(1_000),
  /** Checkpoints and job references outlive the job records they belong to by nothing. */
  checkpointTtlSeconds: z.number().int().min(60).default(7 * 86_400),
  presenceTtlSeconds: z.number().int().min(2).default(15),
  heartbeatIntervalMs: z.number().int().min(200).default(5_000),
  /** Per-job log lines kept in Redis. */
  keepLogs: z.number().int().min(0).default(1_000),
  /** How long a robot gathers progress events before writing them as one stream entry. */
  eventFlushMs: z.number().int().min(0).max(1_000).default(5),
  /** Progress events kept in the shared stream, approximately (counted in entries of up to a flush each). */
  eventStreamMaxLen: z.number().int().min(100).default(10_000),
});
export type DataPlaneSettings = z.infer<typeof dataPlaneSettings>;
export const DEFAULT_DATA_PLANE: DataPlaneSettings = dataPlaneSettings.parse({});

/** Namespaces are DNS labels and hold no dot, so the first dot splits a queue name unambiguously. */
export function queueName(namespace: string, robot: string): string {
  return `${namespace}.${robot}`;
}

export function parseQueueName(queue: string): { namespace: string; robot: string } {
  const dot = queue.indexOf('.');
  if (dot <= 0) throw new Error(`not a robot queue name: "${queue}"`);
  return { namespace: queue.slice(0, dot), robot: queue.slice(dot + 1) };
}

/** Redis keys the data plane owns besides BullMQ's own. */
export const keys = {
  checkpoint: (s: DataPlaneSettings, queue: string, jobId: string) => `${s.prefix}:${queue}:checkpoint:${jobId}`,
  cancelFlag: (s: DataPlaneSettings, jobId: string) => `${s.prefix}:cancel:${jobId}`,
  cancelChannel: (s: DataPlaneSettings) => `${s.prefix}:cancel`,
  jobRef: (s: DataPlaneSettings, jobId: string) => `${s.prefix}:jobref:${jobId}`,
  events: (s: DataPlaneSettings) => `${s.prefix}:events`,
  presence: (s: DataPlaneSettings, robotId: string) => `${s.prefix}:presence:${robotId}`,
  presenceIndex: (s: DataPlaneSettings) => `${s.prefix}:presence`,
  /** Sorted set of a namespace's job ids by creation time: BullMQ has no listing across queues. */
  jobIndex: (s: DataPlaneSettings, namespace: string) => `${s.prefix}:jobs:${namespace}`,
};

/** `finance.invoices` -> `finance`: queue names are `<namespace>.<robot>` and namespaces hold no dot. */
export function namespaceOfQueue(queue: string): string {
  return queue.split('.')[0] ?? queue;
}

/** Maps our 0..100 (higher first) onto BullMQ's 1..2^21 (lower first). Every job is prioritised so order is total. */
export function bullPriority(priority: number): number {
  return 101 - Math.min(100, Math.max(0, Math.round(priority)));
}
export function fromBullPriority(p: number | undefined): number {
  return p ? 101 - p : DEFAULT_PRIORITY;
}

/** BullMQ ids are strings without ":" (its key separator); integers are reserved for its own counter. */
export const jobId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^:\s]+$/, { message: 'must not contain ":" or white space' })
  .refine((id) => !/^\d+$/.test(id), { message: 'must not be only digits' });

export interface EnqueueOptions {
  jobId: string;
  priority?: number;
  /** Extra attempts after the first one fails. */
  retries?: number;
}

export function jobOptions(s: DataPlaneSettings, o: EnqueueOptions): JobsOptions {
  return {
    jobId: o.jobId,
    priority: bullPriority(o.priority ?? DEFAULT_PRIORITY),
    attempts: (o.retries ?? 0) + 1,
    backoff: { type: 'exponential', delay: s.retryBackoffMs },
    removeOnComplete: { age: s.completedRetention.ageSeconds, count: s.completedRetention.count },
    removeOnFail: { age: s.failedRetention.ageSeconds, count: s.failedRetention.count },
    keepLogs: s.keepLogs,
  };
}
