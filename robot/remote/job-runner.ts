import type { JobError, JobResult } from '../../core/job.js';
import type { Logger } from '../../core/logger.js';
import { type ClientMessageInput, type JobAssignMessage, PROTOCOL_VERSION } from '../../core/protocol.js';
import { LazyAbortController } from '../engine/lazy-abort.js';
import { runWorkflow, type RunOutcome, type RunServices } from '../engine/runner.js';
import { isoNow } from '../iso-now.js';
import type { RunningJobs } from '../running-jobs.js';
import type { ValidationCache } from '../../core/validation-cache.js';
import { checkPayload, startingVariables, unsuccessfulEnd } from '../run-steps.js';

export interface RemoteJobDeps {
  robot: { id: string; name: string };
  services: RunServices;
  running: RunningJobs;
  validations: ValidationCache;
  defaultJobTimeoutSeconds: number;
  logger: Logger;
  /** Queues one message for the server; kept while disconnected and sent after reconnect. */
  send(message: ClientMessageInput): void;
  runningChanged(): void;
}

/**
 * Runs one assigned job on this machine with the engine pod robots use, reporting node events,
 * checkpoints and logs as it goes and the result at the end. A run stopped by shutdown gives
 * the job back (job.release) so another machine resumes it from its last checkpoint.
 */
export async function runRemoteJob(a: JobAssignMessage, deps: RemoteJobDeps): Promise<void> {
  const { robot, logger } = deps;
  const jobId = a.jobId;
  const log = logger.child({ job: jobId });
  const t0 = Date.now();
  const startedAt = isoNow();
  const base = { v: PROTOCOL_VERSION, jobId } as const;

  const report = (status: JobResult['status'], error: JobError | undefined, outcome?: RunOutcome): void => {
    const result: JobResult = {
      status,
      variables: outcome?.variables ?? {},
      nodes: outcome?.nodes ?? [],
      startedAt,
      finishedAt: isoNow(),
      durationMs: Date.now() - t0,
      ...(outcome?.resumedAfter ? { resumedAfter: outcome.resumedAfter } : {}),
      ...(error ? { error } : {}),
      robot,
    };
    if (status !== 'succeeded') log.info({ status, error: error?.message }, 'job finished');
    deps.send({ ...base, type: 'job.result', result });
  };

  const checked = checkPayload(a.payload, deps.validations);
  if (!checked.ok) return report('failed', checked.error);
  const { payload, workflow } = checked;
  const resume = a.checkpoint;
  const start = startingVariables(workflow, payload, resume !== undefined, t0);
  if (!start.ok) return report('failed', start.error);
  const { variables } = start;

  const controller = new LazyAbortController();
  deps.running.add(jobId, controller, payload.timeoutSeconds ?? deps.defaultJobTimeoutSeconds);
  deps.runningChanged();
  const totalNodes = workflow.nodes.length;
  let finishedNodes = resume?.finished.length ?? 0;
  if (resume) log.info({ after: resume.finished.at(-1) }, 'resuming from checkpoint');
  const progress = (event: Extract<ClientMessageInput, { type: 'job.progress' }>['event']) =>
    deps.send({ ...base, type: 'job.progress', at: isoNow(), event, finishedNodes, totalNodes });

  let outcome: RunOutcome;
  try {
    outcome = await runWorkflow(workflow, {
      jobId,
      variables,
      signal: controller,
      services: deps.services,
      ...(resume ? { checkpoint: resume } : {}),
      hooks: {
        nodeStarted: (e) => progress({ type: 'node.started', nodeId: e.id, nodeType: e.type, attempt: e.attempt }),
        nodeFinished: (e) => progress({ type: 'node.finished', nodeId: e.id, nodeType: e.type, durationMs: e.durationMs }),
        nodeFailed: (e) => progress({ type: 'node.failed', nodeId: e.id, nodeType: e.type, durationMs: e.durationMs, error: e.error.slice(0, 8_000), willRetry: e.willRetry }),
        checkpoint: async (cp) => {
          finishedNodes = cp.finished.length;
          deps.send({ ...base, type: 'job.checkpoint', checkpoint: cp });
        },
        log: (entry) => {
          log[entry.level]({ node: entry.nodeId }, entry.message);
          deps.send({ ...base, type: 'job.log', at: entry.at, level: entry.level, ...(entry.nodeId ? { nodeId: entry.nodeId } : {}), message: entry.message.slice(0, 16_000) });
        },
      },
    });
  } finally {
    deps.running.delete(jobId);
    deps.runningChanged();
  }

  switch (outcome.status) {
    case 'succeeded':
      return report('succeeded', undefined, outcome);
    case 'shutdown':
      log.info({ after: outcome.checkpoint.finished.at(-1) }, 'giving the job back for another machine');
      deps.send({ ...base, type: 'job.release', reason: outcome.error?.message ?? 'robot is shutting down' });
      return;
    default: {
      const end = unsuccessfulEnd(outcome);
      return report(end.status, end.error, outcome);
    }
  }
}
