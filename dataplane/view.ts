import type { Job } from 'bullmq';
import { type JobPayload, type JobProgress, jobProgress, type JobResult, jobResult, type JobState, type JobView } from '../core/job.js';
import { fromBullPriority } from '../core/queue.js';

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);

/** Maps a BullMQ job and its state onto the job life cycle readers see. */
export function jobView(job: Job<JobPayload, JobResult>, bullState: string): JobView {
  const progress = jobProgress.safeParse(job.progress);
  const p: JobProgress | undefined = progress.success ? progress.data : undefined;
  const returned = jobResult.safeParse(job.returnvalue);
  const result = returned.success ? returned.data : p?.result;
  return {
    id: String(job.id),
    queue: job.queueName,
    workflow: job.data?.workflow?.name ?? '?',
    state: lifecycleState(bullState, job.attemptsMade, result),
    priority: fromBullPriority(job.opts.priority),
    attemptsMade: job.attemptsMade,
    attemptsAllowed: Math.max(1, job.opts.attempts ?? 1),
    createdAt: iso(job.timestamp) ?? new Date(0).toISOString(),
    ...(job.processedOn ? { startedAt: iso(job.processedOn) } : {}),
    ...(job.finishedOn ? { finishedAt: iso(job.finishedOn) } : {}),
    ...(p ? { progress: p } : {}),
    ...(result ? { result } : {}),
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
  };
}

export function lifecycleState(bullState: string, attemptsMade: number, result: JobResult | undefined): JobState {
  switch (bullState) {
    case 'completed':
      return result?.status ?? 'succeeded';
    case 'failed':
      return result?.status ?? 'failed';
    case 'active':
      return 'running';
    default:
      return attemptsMade > 0 ? 'retrying' : 'queued';
  }
}
