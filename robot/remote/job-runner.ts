import { InputError, resolveInputs } from '../../core/inputs.js';
import { type JobError, jobPayloadEnvelope, type JobResult } from '../../core/job.js';
import type { Logger } from '../../core/logger.js';
import { type ClientMessageInput, type JobAssignMessage, PROTOCOL_VERSION } from '../../core/protocol.js';
import { formatProblem } from '../../core/validate.js';
import { LazyAbortController } from '../engine/lazy-abort.js';
import { runWorkflow, type RunOutcome, type RunServices } from '../engine/runner.js';
import { isoNow } from '../iso-now.js';
import type { RunningJobs } from '../running-jobs.js';
import type { ValidationCache } from '../../core/validation-cache.js';

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

  const parsed = jobPayloadEnvelope.safeParse(a.payload);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ');
    return report('failed', { code: 'invalid_payload', message: `invalid job payload: ${msg}` });
  }
  const payload = parsed.data;
  const check = deps.validations.validate(payload.workflow.spec, payload.workflow.hash);
  if (!check.ok) {
    return report('failed', { code: 'invalid_workflow', message: `workflow "${payload.workflow.name}" is invalid: ${check.problems.map(formatProblem).join('; ')}` });
  }
  const resume = a.checkpoint;
  if (!resume && payload.deadline && Date.parse(payload.deadline) < t0) {
    return report('failed', { code: 'deadline_exceeded', message: `deadline ${payload.deadline} passed before the job started` });
  }
  let variables: Record<string, unknown> = {};
  if (!resume) {
    try {
      variables = resolveInputs(check.workflow.inputs, payload.variables);
    } catch (err) {
      if (err instanceof InputError) return report('failed', { code: 'invalid_input', message: err.message });
      throw err;
    }
  }

  const controller = new LazyAbortController();
  deps.running.add(jobId, controller, payload.timeoutSeconds ?? deps.defaultJobTimeoutSeconds);
  deps.runningChanged();
  const totalNodes = check.workflow.nodes.length;
  let finishedNodes = resume?.finished.length ?? 0;
  if (resume) log.info({ after: resume.finished.at(-1) }, 'resuming from checkpoint');
  const progress = (event: Extract<ClientMessageInput, { type: 'job.progress' }>['event']) =>
    deps.send({ ...base, type: 'job.progress', at: isoNow(), event, finishedNodes, totalNodes });

  let outcome: RunOutcome;
  try {
    outcome = await runWorkflow(check.workflow, {
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
    case 'cancelled':
      return report('cancelled', { code: 'cancelled', message: outcome.error?.message ?? 'cancelled' }, outcome);
    case 'timed_out':
      return report('timed_out', { code: 'timed_out', message: outcome.error?.message ?? 'timed out' }, outcome);
    default:
      return report('failed', { code: 'node_failed', message: outcome.error?.message ?? 'failed', ...(outcome.error?.nodeId ? { nodeId: outcome.error.nodeId } : {}) }, outcome);
  }
}
