import { randomBytes } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { dataPlaneSettings, type DataPlaneSettings, jobOptions, queueName } from '../core/queue.js';
import { validateWorkflow } from '../core/validate.js';
import { contentHash } from '../core/hash.js';
import type { WorkflowSpec } from '../core/workflow.js';
import { EventLog } from '../dataplane/events.js';
import { JobClient } from '../dataplane/jobs.js';
import { RobotAgent } from '../robot/agent.js';
import { robotConfig } from '../robot/config.js';

export const NOOP: WorkflowSpec = (() => {
  const r = validateWorkflow({ nodes: [{ id: 'start', type: 'start' }, { id: 'end', type: 'end' }], edges: [{ from: 'start', to: 'end' }] });
  if (!r.ok) throw new Error('bad no-op workflow');
  return r.workflow;
})();

export function freshSettings(): DataPlaneSettings {
  // Retention by count would cap the completed count below the job count the bench waits for.
  return dataPlaneSettings.parse({ prefix: `bench${randomBytes(3).toString('hex')}`, completedRetention: { ageSeconds: 3_600, count: 1_000_000 } });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? NaN;
}

/** Our robot: the real agent, in this process, on its own queue. */
export async function startOurRobot(redisUrl: string, settings: DataPlaneSettings, concurrency: number): Promise<RobotAgent> {
  const agent = new RobotAgent(robotConfig.parse({ name: 'bench', id: 'bench-robot', redisUrl, concurrency, dataPlane: settings }));
  await agent.start();
  return agent;
}

/** The baseline: a bare BullMQ worker with a no-op processor and the same worker options. */
export function startBareWorker(redisUrl: string, settings: DataPlaneSettings, queue: string, concurrency: number, onJob?: (job: Job) => void): Worker {
  return new Worker(
    queue,
    async (job) => {
      onJob?.(job);
      return { ok: true };
    },
    {
      connection: { url: redisUrl, maxRetriesPerRequest: null },
      prefix: settings.prefix,
      concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: settings.maxStalledCount,
    },
  );
}

/** Adds n jobs the way `rpa submit` shapes them (same options, same payload), in bulk. */
export async function fillQueue(redis: Redis, settings: DataPlaneSettings, queue: string, n: number): Promise<Queue> {
  const q = new Queue(queue, { connection: redis, prefix: settings.prefix });
  const payload = { v: 1, workflow: { name: 'noop', spec: NOOP, hash: contentHash(NOOP) }, variables: {}, submittedAt: new Date().toISOString(), source: { kind: 'cli' } };
  for (let i = 0; i < n; i += 500) {
    const batch = Array.from({ length: Math.min(500, n - i) }, (_, k) => ({
      name: 'run',
      data: payload,
      opts: jobOptions(settings, { jobId: `j${i + k}` }),
    }));
    await q.addBulk(batch);
  }
  return q;
}

export async function waitDrained(q: Queue, n: number): Promise<void> {
  for (;;) {
    const c = await q.getJobCounts('completed', 'failed');
    if ((c.completed ?? 0) + (c.failed ?? 0) >= n) {
      if ((c.failed ?? 0) > 0) throw new Error(`${c.failed} jobs failed`);
      return;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

export { EventLog, JobClient, queueName };

/**
 * Jobs per second between the first job's start and the last one's finish, from BullMQ's own
 * timestamps: worker start-up is left out, so a robot that does more at start is not penalised.
 */
export async function drainRate(q: Queue, n: number): Promise<number> {
  const jobs = await q.getJobs(['completed'], 0, n);
  const first = Math.min(...jobs.map((j) => j.processedOn ?? Infinity));
  const last = Math.max(...jobs.map((j) => j.finishedOn ?? 0));
  return jobs.length / Math.max(1, last - first) * 1000;
}
