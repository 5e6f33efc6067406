import { z } from 'zod';
import { jobState } from './job.js';
import { conditionSchema } from './meta.js';

/** metav1.Time's wire form, so `kubectl` and printer columns of type `date` read it. */
const timestamp = z.iso.datetime({ offset: true });

/**
 * Status of the Job custom resource: the operator mirrors the run recorded in Redis into it, so
 * `kubectl get jobs.rpa.dev` tells what happened without access to the data plane. It carries a
 * summary only: variables and node outputs can be large or sensitive and stay in Redis.
 */
export const jobStatus = z.object({
  /** Unset until the operator has enqueued the job. */
  phase: jobState.optional(),
  /** The Robot (custom resource name) the job was routed to. */
  robot: z.string().optional(),
  /** The robot process or remote machine that ran the latest attempt. */
  robotId: z.string().optional(),
  /** BullMQ queue the job was enqueued on. */
  queue: z.string().optional(),
  startTime: timestamp.optional(),
  completionTime: timestamp.optional(),
  /** Human-readable run time (see formatDuration), for the printer column; durationMs is the exact value. */
  duration: z.string().optional(),
  durationMs: z.number().int().min(0).optional(),
  /** Attempts started so far, the first included. */
  attempts: z.number().int().min(0).optional(),
  progress: z
    .object({
      finishedNodes: z.number().int().min(0),
      totalNodes: z.number().int().min(0),
      currentNode: z.string().optional(),
    })
    .optional(),
  result: z
    .object({
      status: jobState.extract(['succeeded', 'failed', 'cancelled', 'timed_out']),
      /** Error code of a run that did not succeed (core/job.ts jobError.code). */
      errorCode: z.string().optional(),
      message: z.string().optional(),
      /** The node that failed, when one did. */
      nodeId: z.string().optional(),
      /** The node a crashed run resumed after, when it did. */
      resumedAfter: z.string().optional(),
      nodesRun: z.number().int().min(0).optional(),
    })
    .optional(),
  conditions: z.array(conditionSchema).optional(),
  observedGeneration: z.number().int().optional(),
});
export type JobStatus = z.infer<typeof jobStatus>;

/**
 * Formats a run time the way kubectl prints durations ("850ms", "42s", "3m7s", "2h5m"), so the
 * Duration column reads like the Age column beside it.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalSeconds = Math.floor(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return m > 0 ? `${h}h${m}m` : `${h}h`;
  if (m > 0) return s > 0 ? `${m}m${s}s` : `${m}m`;
  return `${s}s`;
}
