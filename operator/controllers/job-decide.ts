import { formatDuration, type JobStatus } from '../../core/job-status.js';
import { FINAL_STATES, type JobSpec, type JobView } from '../../core/job.js';
import { parseQueueName } from '../../core/queue.js';
import { readiness } from '../status/conditions.js';

export const JOB_FINALIZER = 'rpa.dev/job-cleanup';

/** Status writes for progress alone are spaced at least this far apart; phase changes are written at once. */
export const PROGRESS_WRITE_INTERVAL_MS = 5_000;

export interface JobFacts {
  uid: string;
  generation: number;
  spec: JobSpec;
  status: JobStatus | undefined;
  finalizers: readonly string[];
  deletionTimestamp?: string;
  /** The job in the data plane (BullMQ id = the CR's uid), when it exists. */
  queued?: JobView;
  /** Why the job cannot be enqueued (workflow missing or invalid, no robot matches), when it cannot. */
  blocked?: { reason: string; message: string };
  /** Where it would go, when it can be enqueued. */
  target?: { robot: string; queue: string };
  lastStatusWriteAt?: number;
}

export type JobAction =
  | { kind: 'add-finalizer' }
  | { kind: 'enqueue'; robot: string; queue: string }
  | { kind: 'cancel'; reason: string }
  | { kind: 'write-status'; status: JobStatus }
  | { kind: 'delete'; reason: string }
  | { kind: 'remove-finalizer' }
  | { kind: 'requeue'; afterMs: number }
  | { kind: 'none' };

/**
 * One step towards the desired state of a Job CR, level-triggered: whatever woke the reconciler,
 * the same facts give the same step. Enqueueing uses the CR's uid as BullMQ job id, so repeating
 * the step after a crash or a leader change cannot run the job twice.
 */
export function decideJob(f: JobFacts, now: number): JobAction {
  const finished = f.queued !== undefined && FINAL_STATES.has(f.queued.state);
  if (f.deletionTimestamp) {
    if (f.queued && !finished) return { kind: 'cancel', reason: 'Job custom resource deleted' };
    return f.finalizers.includes(JOB_FINALIZER) ? { kind: 'remove-finalizer' } : { kind: 'none' };
  }
  if (!f.finalizers.includes(JOB_FINALIZER)) return { kind: 'add-finalizer' };
  if (f.spec.cancel && f.queued && !finished) return { kind: 'cancel', reason: 'spec.cancel set' };

  if (!f.queued) {
    if (f.status?.phase && FINAL_STATES.has(f.status.phase)) return ttlStep(f, now);
    if (f.blocked) return statusStep(f, blockedStatus(f, now), now, true);
    if (f.target && !f.spec.cancel) return { kind: 'enqueue', robot: f.target.robot, queue: f.target.queue };
    return { kind: 'none' };
  }
  const status = mirrorStatus(f, f.queued, now);
  const step = statusStep(f, status, now, f.status?.phase !== status.phase);
  if (step.kind !== 'none') return step;
  return finished ? ttlStep(f, now) : { kind: 'requeue', afterMs: PROGRESS_WRITE_INTERVAL_MS };
}

function statusStep(f: JobFacts, status: JobStatus, now: number, urgent: boolean): JobAction {
  if (sameStatus(f.status, status)) return { kind: 'none' };
  const dueAt = (f.lastStatusWriteAt ?? 0) + PROGRESS_WRITE_INTERVAL_MS;
  if (urgent || now >= dueAt) return { kind: 'write-status', status };
  return { kind: 'requeue', afterMs: dueAt - now };
}

function ttlStep(f: JobFacts, now: number): JobAction {
  const ttl = f.spec.ttlSecondsAfterFinished;
  const done = f.status?.completionTime ? Date.parse(f.status.completionTime) : undefined;
  if (ttl === undefined || done === undefined) return { kind: 'none' };
  const at = done + ttl * 1000;
  return now >= at ? { kind: 'delete', reason: `finished more than ${ttl} s ago (ttlSecondsAfterFinished)` } : { kind: 'requeue', afterMs: at - now };
}

function blockedStatus(f: JobFacts, now: number): JobStatus {
  return {
    ...f.status,
    observedGeneration: f.generation,
    conditions: readiness(f.status?.conditions, { ready: false, stalled: true, reason: f.blocked?.reason ?? 'Blocked', message: f.blocked?.message ?? '' }, new Date(now), f.generation),
  };
}

/** The CR status for a job as the data plane sees it: a summary, never variables. */
export function mirrorStatus(f: Pick<JobFacts, 'status' | 'generation' | 'target'>, v: JobView, now: number): JobStatus {
  const r = v.result;
  const final = FINAL_STATES.has(v.state);
  const durationMs = r?.durationMs ?? (v.startedAt ? Math.max(0, (v.finishedAt ? Date.parse(v.finishedAt) : now) - Date.parse(v.startedAt)) : undefined);
  const p = v.progress;
  const ready = v.state === 'succeeded';
  return {
    phase: v.state,
    // The queue the job sits in names its Robot, whoever routed it there.
    robot: parseQueueName(v.queue).robot,
    ...(r?.robot?.id ?? p?.robot?.id ? { robotId: r?.robot?.id ?? p?.robot?.id } : {}),
    queue: v.queue,
    ...(v.startedAt ? { startTime: v.startedAt } : {}),
    ...(final && v.finishedAt ? { completionTime: v.finishedAt } : {}),
    ...(durationMs !== undefined ? { durationMs: Math.round(durationMs), duration: formatDuration(durationMs) } : {}),
    attempts: v.attemptsMade,
    ...(p && !final ? { progress: { finishedNodes: p.finishedNodes, totalNodes: p.totalNodes, ...(p.currentNode ? { currentNode: p.currentNode } : {}) } } : {}),
    ...(final && r
      ? {
          result: {
            status: r.status,
            ...(r.error ? { errorCode: r.error.code, message: r.error.message } : {}),
            ...(r.error?.nodeId ? { nodeId: r.error.nodeId } : {}),
            ...(r.resumedAfter ? { resumedAfter: r.resumedAfter } : {}),
            nodesRun: r.nodes.length,
          },
        }
      : {}),
    observedGeneration: f.generation,
    conditions: readiness(
      f.status?.conditions,
      { ready, stalled: final && !ready, reason: reasonFor(v.state), message: r?.error?.message ?? `job is ${v.state}` },
      new Date(now),
      f.generation,
    ),
  };
}

const REASONS: Record<JobView['state'], string> = {
  queued: 'Queued',
  running: 'Running',
  retrying: 'Retrying',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  timed_out: 'TimedOut',
};
const reasonFor = (s: JobView['state']) => REASONS[s];

/** Equal but for condition timestamps and the ever-growing duration of a running job. */
function sameStatus(a: JobStatus | undefined, b: JobStatus): boolean {
  const strip = (s: JobStatus | undefined) =>
    JSON.stringify({
      ...s,
      duration: undefined,
      durationMs: s?.phase && FINAL_STATES.has(s.phase) ? s.durationMs : undefined,
      conditions: s?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
    });
  return strip(a) === strip(b);
}
