import { type Job, UnrecoverableError } from 'bullmq';
import type { JobPayload, JobProgress, JobResult } from '../../core/job.js';

/**
 * How a result a machine reports ends its BullMQ job, with the same rules pod robots follow
 * (robot/processor.ts): success completes it; a node failure is retried while attempts remain;
 * anything else fails it for good. Failed results are kept in the job's progress, where
 * readers find them.
 */
export function finishPlan(job: Pick<Job, 'attemptsMade' | 'opts'>, result: JobResult): { kind: 'complete' } | { kind: 'fail'; retryable: boolean; message: string } {
  if (result.status === 'succeeded') return { kind: 'complete' };
  const message = result.error?.message ?? result.status;
  const retryable = result.status === 'failed' && (result.error?.code ?? 'node_failed') === 'node_failed' && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
  return { kind: 'fail', retryable, message };
}

/** Applies finishPlan under the machine's lock token; throws when the lock is no longer held. */
export async function finishJob(job: Job<JobPayload, JobResult>, token: string, result: JobResult): Promise<{ clearCheckpoint: boolean }> {
  const plan = finishPlan(job, result);
  if (plan.kind === 'complete') {
    await job.moveToCompleted(result, token, false);
    return { clearCheckpoint: true };
  }
  const progress: JobProgress = {
    state: plan.retryable ? 'retrying' : result.status,
    finishedNodes: result.nodes.length,
    totalNodes: 0,
    ...(result.robot ? { robot: result.robot } : {}),
    result,
  };
  await job.updateProgress(progress);
  await job.moveToFailed(plan.retryable ? new Error(plan.message) : new UnrecoverableError(plan.message), token, false);
  // A failed job keeps its checkpoint for `rpa job retry`; cancelled and timed-out ones do not.
  return { clearCheckpoint: !plan.retryable && result.status !== 'failed' };
}
