import { type Job, UnrecoverableError, WaitingError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ProgressEvent } from '../core/events.js';
import { type JobError, type JobPayload, type JobResult } from '../core/job.js';
import type { Logger } from '../core/logger.js';
import { keys } from '../core/queue.js';
import { ValidationCache } from '../core/validation-cache.js';
import { type Checkpoint, checkpoint as checkpointSchema } from '../core/checkpoint.js';
import type { CheckpointStore } from '../dataplane/checkpoints.js';
import type { EventLog } from '../dataplane/events.js';
import { LazyAbortController } from './engine/lazy-abort.js';
import type { RunningJobs } from './running-jobs.js';
import { isoNow } from './iso-now.js';
import { runWorkflow, type RunOutcome, type RunServices } from './engine/runner.js';
import type { RobotConfig } from './config.js';
import type { RobotMetrics } from './metrics.js';
import { ProgressWriter } from './progress-writer.js';
import { checkPayload, startingVariables, unsuccessfulEnd } from './run-steps.js';

export interface ProcessorDeps {
  cfg: RobotConfig;
  queue: string;
  redis: Redis;
  checkpoints: CheckpointStore;
  events: EventLog;
  services: RunServices;
  metrics: RobotMetrics;
  logger: Logger;
  /** The jobs running here, for cancellation, timeouts and drain. */
  running: RunningJobs;
  /** Called when the set of running jobs changes. */
  runningChanged?: () => void;
  /** Whether a cancellation for this job reached this robot lately (it may have come before the job). */
  cancelledLately: (jobId: string) => string | undefined;
}

type FinalStatus = JobResult['status'];

/** The BullMQ processor: one job attempt from payload check to result. */
export function createProcessor(deps: ProcessorDeps) {
  const { cfg, queue, redis, checkpoints, events, metrics, logger, running } = deps;
  const robot = { id: cfg.id, name: cfg.name };
  const now = isoNow;
  const validations = new ValidationCache();
  const m = metrics.forQueue(queue);
  const publish = (e: ProgressEvent) => events.publish(e);

  // Two parameters on purpose: a third makes BullMQ build an AbortController per job, which we do not use
  // (cancellation arrives over pub/sub).
  return async (job: Job<JobPayload, JobResult>, token?: string): Promise<JobResult> => {
    const jobId = String(job.id);
    let childLogger: Logger | undefined;
    const log = () => (childLogger ??= logger.child({ job: jobId }));
    const t0 = Date.now();
    const startedAt = isoNow();
    if (job.attemptsStarted <= 1 && job.attemptsMade === 0) m.dispatchLatency.observe(Math.max(0, t0 - job.timestamp) / 1000);

    const end = async (status: FinalStatus, error: JobError | undefined, outcome?: RunOutcome): Promise<JobResult> => {
      const result: JobResult = {
        status,
        variables: outcome?.variables ?? {},
        nodes: outcome?.nodes ?? [],
        startedAt,
        finishedAt: now(),
        durationMs: Date.now() - t0,
        ...(outcome?.resumedAfter ? { resumedAfter: outcome.resumedAfter } : {}),
        ...(error ? { error } : {}),
        robot,
      };
      m.jobDuration(status).observe(result.durationMs / 1000);
      publish({ type: 'job.finished', jobId, queue, robotId: cfg.id, at: result.finishedAt, state: status, durationMs: result.durationMs, ...(error ? { error: error.message } : {}) });
      // Successes are the bulk and live in BullMQ and the event stream; logs carry the exceptions.
      if (status === 'succeeded') {
        if (logger.isLevelEnabled('debug')) log().debug({ status, durationMs: result.durationMs }, 'job finished');
      } else {
        log().info({ status, durationMs: result.durationMs, error: error?.message }, 'job finished');
      }
      return result;
    };

    /** Records a result that is not success on the job, then makes BullMQ fail it (retrying only node failures). */
    const fail = async (status: Exclude<FinalStatus, 'succeeded'>, error: JobError, outcome?: RunOutcome): Promise<never> => {
      const retryable = status === 'failed' && error.code === 'node_failed' && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      const result = await end(status, error, outcome);
      await job
        .updateProgress({ state: retryable ? 'retrying' : status, finishedNodes: outcome?.checkpoint.finished.length ?? 0, totalNodes: 0, robot, result })
        .catch(() => undefined);
      if (!retryable && status !== 'failed') await checkpoints.clear(queue, jobId).catch(() => undefined);
      if (retryable) throw new Error(error.message);
      throw new UnrecoverableError(error.message);
    };

    const checked = checkPayload(job.data, validations);
    if (!checked.ok) return fail('failed', checked.error);
    const { payload, workflow } = checked;

    // A first attempt cannot have a checkpoint, and a cancellation racing its start reached this
    // robot over pub/sub; only a job that ran before costs a read (flag and checkpoint in one).
    const ranBefore = job.attemptsStarted > 1 || job.attemptsMade > 0;
    const [flag, rawCheckpoint] = ranBefore
      ? await redis.mget(keys.cancelFlag(cfg.dataPlane, jobId), keys.checkpoint(cfg.dataPlane, queue, jobId))
      : [null, null];
    const cancelReason = deps.cancelledLately(jobId) ?? flag;
    if (cancelReason) return fail('cancelled', { code: 'cancelled', message: cancelReason });
    const resume: Checkpoint | undefined = rawCheckpoint ? checkpointSchema.safeParse(JSON.parse(rawCheckpoint)).data : undefined;
    let checkpointed = rawCheckpoint !== null;
    const start = startingVariables(workflow, payload, resume !== undefined, t0);
    if (!start.ok) return fail('failed', start.error);
    const { variables } = start;

    const controller = new LazyAbortController();
    const timeoutSeconds = payload.timeoutSeconds ?? cfg.defaultJobTimeoutSeconds;
    running.add(jobId, controller, timeoutSeconds);
    deps.runningChanged?.();
    const progress = new ProgressWriter(job, cfg.progressIntervalMs);
    const totalNodes = workflow.nodes.length;
    let finishedNodes = resume?.finished.length ?? 0;
    if (resume) {
      m.resumed.inc();
      log().info({ after: resume.finished.at(-1) }, 'resuming from checkpoint');
    }
    publish({ type: 'job.started', jobId, queue, robotId: cfg.id, at: startedAt, attempt: job.attemptsStarted, ...(resume?.finished.length ? { resumeAfter: resume.finished.at(-1) } : {}) });

    let outcome: RunOutcome;
    try {
      outcome = await runWorkflow(workflow, {
        jobId,
        variables,
        signal: controller,
        services: deps.services,
        ...(resume ? { checkpoint: resume } : {}),
        hooks: {
          nodeStarted: (e) => {
            publish({ type: 'node.started', jobId, queue, robotId: cfg.id, at: now(), nodeId: e.id, nodeType: e.type, attempt: e.attempt });
            progress.update({ state: 'running', currentNode: e.id, finishedNodes, totalNodes, robot });
          },
          nodeFinished: (e) => {
            metrics.nodeDuration.observe({ type: e.type, status: 'succeeded' }, e.durationMs / 1000);
            publish({ type: 'node.finished', jobId, queue, robotId: cfg.id, at: now(), nodeId: e.id, nodeType: e.type, durationMs: e.durationMs });
          },
          nodeFailed: (e) => {
            metrics.nodeDuration.observe({ type: e.type, status: 'failed' }, e.durationMs / 1000);
            publish({ type: 'node.failed', jobId, queue, robotId: cfg.id, at: now(), nodeId: e.id, nodeType: e.type, durationMs: e.durationMs, error: e.error, willRetry: e.willRetry });
          },
          checkpoint: async (cp) => {
            finishedNodes = cp.finished.length;
            checkpointed = true;
            await checkpoints.save(queue, jobId, cp);
          },
          log: (entry) => {
            log()[entry.level]({ node: entry.nodeId }, entry.message);
            void job.log(`${entry.at} ${entry.level.toUpperCase()} ${entry.nodeId ?? '-'} ${entry.message}`).catch(() => undefined);
          },
        },
      });
    } finally {
      running.delete(jobId);
      deps.runningChanged?.();
      progress.cancel();
    }

    switch (outcome.status) {
      case 'succeeded': {
        if (checkpointed) await checkpoints.clear(queue, jobId);
        return end('succeeded', undefined, outcome);
      }
      case 'shutdown': {
        // Back to the queue with its checkpoint: another robot resumes it without waiting for the stall check.
        log().info({ after: outcome.checkpoint.finished.at(-1) }, 'returning job to the queue for another robot');
        await job.moveToWait(token);
        throw new WaitingError();
      }
      default: {
        const end = unsuccessfulEnd(outcome);
        return fail(end.status, end.error, outcome);
      }
    }
  };
}
