import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { FINAL_STATES, type JobPayload, type JobPayloadInput, jobPayload, type JobResult, type JobView } from '../core/job.js';
import { type DataPlaneSettings, DEFAULT_DATA_PLANE, jobId as jobIdSchema, jobOptions, keys, namespaceOfQueue } from '../core/queue.js';
import { JobIndex } from './job-index.js';
import { jobView } from './view.js';

export interface SubmitRequest {
  queue: string;
  /** Idempotency: submitting the same id twice runs the job once. */
  jobId?: string;
  payload: Omit<JobPayloadInput, 'v' | 'submittedAt'> & { submittedAt?: string };
  priority?: number;
  retries?: number;
}

export interface SubmitResult {
  id: string;
  queue: string;
  /** False when a job with this id already existed and was left as it was. */
  created: boolean;
}

interface JobRef {
  queue: string;
  added?: boolean;
  cancelledWhileQueued?: { at: string; reason: string; view: JobView };
}

export type CancelOutcome = 'cancelled' | 'signalled' | 'finished' | 'not_found';

/** Submits, reads and cancels jobs; the CLI, the API and the operator share it. */
export class JobClient {
  private readonly queues = new Map<string, Queue<JobPayload, JobResult>>();
  readonly index: JobIndex;

  constructor(
    private readonly redis: Redis,
    readonly settings: DataPlaneSettings = DEFAULT_DATA_PLANE,
  ) {
    this.index = new JobIndex(redis, settings);
  }

  queue(name: string): Queue<JobPayload, JobResult> {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue<JobPayload, JobResult>(name, { connection: this.redis, prefix: this.settings.prefix });
      this.queues.set(name, q);
    }
    return q;
  }

  async submit(req: SubmitRequest): Promise<SubmitResult> {
    const id = jobIdSchema.parse(req.jobId ?? randomUUID());
    const payload = jobPayload.parse({ ...req.payload, v: 1, submittedAt: req.payload.submittedAt ?? new Date().toISOString() });
    const refKey = keys.jobRef(this.settings, id);
    const ttl = this.settings.failedRetention.ageSeconds;
    // The reference is the idempotency gate, and it goes first: a robot may finish the job before add() returns.
    const fresh = await this.redis.set(refKey, JSON.stringify({ queue: req.queue, added: false } satisfies JobRef), 'EX', ttl, 'NX');
    if (!fresh) {
      const existing = await this.ref(id);
      // `added: false` is a submit in flight or one that died between the two writes: adding again is safe, BullMQ keeps one job per id.
      if (existing?.added !== false) return { id, queue: existing?.queue ?? req.queue, created: false };
    }
    // One creation time for the job record and the index, so listings sorted by either agree.
    const createdMs = Date.parse(payload.submittedAt) || Date.now();
    await this.queue(req.queue).add('run', payload, { ...jobOptions(this.settings, { jobId: id, priority: req.priority, retries: req.retries }), timestamp: createdMs });
    await this.index.add(namespaceOfQueue(req.queue), id, createdMs);
    await this.redis.set(refKey, JSON.stringify({ queue: req.queue, added: true } satisfies JobRef), 'EX', ttl, 'XX');
    return { id, queue: req.queue, created: fresh !== null };
  }

  private async ref(id: string): Promise<JobRef | undefined> {
    const raw = await this.redis.get(keys.jobRef(this.settings, id));
    return raw ? (JSON.parse(raw) as JobRef) : undefined;
  }

  async get(id: string): Promise<JobView | undefined> {
    const ref = await this.ref(id);
    if (!ref) return undefined;
    if (ref.cancelledWhileQueued) return ref.cancelledWhileQueued.view;
    // State first: a job read before its state could look unfinished yet be reported failed.
    const q = this.queue(ref.queue);
    const state = await q.getJobState(id);
    const job = await q.getJob(id);
    if (!job || state === 'unknown') return undefined;
    return jobView(job, state);
  }

  /**
   * Cancels wherever the job is. A queued job is removed and remembered as cancelled, so a
   * Robot scaled to zero is not woken up just to drop it; a running one is signalled and its
   * robot stops the current node within a second.
   */
  async cancel(id: string, reason = 'cancelled by request'): Promise<CancelOutcome> {
    const ref = await this.ref(id);
    if (!ref) return 'not_found';
    if (ref.cancelledWhileQueued) return 'finished';
    const job = await this.queue(ref.queue).getJob(id);
    if (!job) return 'not_found';
    // The state is read before signalling: a robot may end the job before a later read.
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return 'finished';
    await this.redis.set(keys.cancelFlag(this.settings, id), reason, 'EX', this.settings.failedRetention.ageSeconds);
    await this.redis.publish(keys.cancelChannel(this.settings), JSON.stringify({ jobId: id, reason }));
    if (state === 'active') return 'signalled';
    const view = jobView(job, state);
    try {
      await job.remove();
    } catch {
      // A robot took it in the meantime: the flag and the signal reach it there.
      return 'signalled';
    }
    const now = new Date().toISOString();
    const cancelledView: JobView = {
      ...view,
      state: 'cancelled',
      finishedAt: now,
      failedReason: reason,
      result: { status: 'cancelled', variables: {}, nodes: [], startedAt: now, finishedAt: now, durationMs: 0, error: { code: 'cancelled', message: reason } },
    };
    const updated: JobRef = { ...ref, cancelledWhileQueued: { at: now, reason, view: cancelledView } };
    await this.redis.set(keys.jobRef(this.settings, id), JSON.stringify(updated), 'EX', this.settings.failedRetention.ageSeconds);
    return 'cancelled';
  }

  async logs(id: string): Promise<string[] | undefined> {
    const ref = await this.ref(id);
    if (!ref) return undefined;
    const { logs } = await this.queue(ref.queue).getJobLogs(id, 0, -1);
    return logs;
  }

  /** Retries a failed job from its checkpoint; false when it is not in the failed state. */
  async retry(id: string): Promise<boolean> {
    const ref = await this.ref(id);
    if (!ref) return false;
    const job = await this.queue(ref.queue).getJob(id);
    if (!job || (await job.getState()) !== 'failed') return false;
    await this.redis.del(keys.cancelFlag(this.settings, id));
    await job.retry('failed');
    return true;
  }

  /** Polls until the job reaches a final state; the poll interval grows from 5 ms to 250 ms. */
  async waitFor(id: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<JobView> {
    const deadline = Date.now() + (opts.timeoutMs ?? 24 * 3_600_000);
    let delay = 5;
    for (;;) {
      const view = await this.get(id);
      if (view && FINAL_STATES.has(view.state)) return view;
      if (Date.now() > deadline) throw new Error(`job ${id} did not finish within ${opts.timeoutMs} ms (state: ${view?.state ?? 'unknown'})`);
      if (opts.signal?.aborted) throw new Error('wait aborted');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(250, delay * 2);
    }
  }

  async counts(queue: string): Promise<{ waiting: number; active: number; delayed: number; failed: number; completed: number }> {
    const c = await this.queue(queue).getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed');
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
      completed: c.completed ?? 0,
    };
  }

  /**
   * What deadline-aware scaling needs: the deadlines of up to `limit` waiting jobs (undefined for
   * jobs without one) and the mean run time of the last completed ones. Reads job hashes, so the
   * Robot controller calls it on its periodic pass, not on every queue event.
   */
  async deadlineFacts(queue: string, limit = 500): Promise<{ deadlines: (Date | undefined)[]; expectedJobSeconds: number | undefined }> {
    const q = this.queue(queue);
    const [waiting, done] = await Promise.all([q.getJobs(['waiting', 'prioritized'], 0, limit - 1), q.getCompleted(0, 19)]);
    const deadlines = waiting.map((j) => (j?.data?.deadline ? new Date(j.data.deadline) : undefined));
    const runs = done.filter((j) => j?.processedOn && j.finishedOn).map((j) => ((j.finishedOn ?? 0) - (j.processedOn ?? 0)) / 1000);
    return { deadlines, expectedJobSeconds: runs.length > 0 ? runs.reduce((a, b) => a + b, 0) / runs.length : undefined };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
