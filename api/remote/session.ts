import type { Job } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { WebSocket } from 'ws';
import type { ProgressEvent } from '../../core/events.js';
import type { JobPayload, JobResult } from '../../core/job.js';
import { CLOSE_CODES, type ClientMessage, clientMessage, type HeartbeatMessage, type HelloMessage, parseFrame, PROTOCOL_VERSION, type ServerMessage } from '../../core/protocol.js';
import { type DataPlaneSettings, keys, queueName } from '../../core/queue.js';
import { checkpoint as checkpointSchema } from '../../core/checkpoint.js';
import type { CheckpointStore } from '../../dataplane/checkpoints.js';
import type { EventLog } from '../../dataplane/events.js';
import type { JobClient } from '../../dataplane/jobs.js';
import type { PresenceStore } from '../../dataplane/presence.js';
import { finishJob } from './job-finish.js';
import type { Taker } from './dispatcher.js';
import { remotePresence } from './presence-record.js';
import type { RemoteMetrics } from './metrics.js';
import type { RobotTokens } from './robot-tokens.js';

export interface SessionTimings {
  /** A connection that has not said hello by then is closed (4408). */
  helloTimeoutMs: number;
  /** Heartbeat interval told to machines; kept well under the lock duration. */
  heartbeatMs: number;
  /** A connection silent for this long is dropped (half-open TCP); its jobs' locks then expire. */
  idleTimeoutMs: number;
}

export interface SessionDeps {
  redis: Redis;
  /** Hands jobs of the session's queue to it once it is ready (one dispatcher per queue). */
  dispatch: {
    add(session: RemoteSession): void;
    remove(session: RemoteSession): void;
    nudge(queue: string): void;
  };
  settings: DataPlaneSettings;
  jobs: JobClient;
  tokens?: RobotTokens;
  checkpoints: CheckpointStore;
  events: EventLog;
  presence: PresenceStore;
  metrics: RemoteMetrics;
  logger: FastifyBaseLogger;
  timings: SessionTimings;
  onReady(session: RemoteSession): void;
  onClosed(session: RemoteSession): void;
  /** Whether another session (a reconnect that overtook this close) speaks for this machine now. */
  stillConnected(robotId: string): boolean;
}

interface Owned {
  job: Job<JobPayload, JobResult>;
}

type State = 'hello' | 'authenticating' | 'ready' | 'closed';

/**
 * One connected machine: authenticates its hello, then takes jobs from its Robot's queue on
 * its behalf (manual BullMQ fetching under a lock token of its own) and keeps their locks alive
 * only while its heartbeats name them. When the connection goes, nothing is released: the
 * locks expire and the stalled check hands the jobs, with their checkpoints, to whoever comes next
 * (the same machine after a reconnect adopts them back if their locks are still its own).
 */
export class RemoteSession implements Taker {
  private state: State = 'hello';
  private hello?: HelloMessage;
  private queue = '';
  private token_ = '';
  private readonly owned = new Map<string, Owned>();
  private draining = false;
  private chain: Promise<void> = Promise.resolve();
  private lastSeen = Date.now();
  private readonly startedAt = new Date().toISOString();
  private readonly timers: NodeJS.Timeout[] = [];
  private log: FastifyBaseLogger;

  constructor(
    private readonly socket: WebSocket,
    private readonly token: string | undefined,
    private readonly deps: SessionDeps,
  ) {
    this.log = deps.logger;
    socket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    socket.on('error', (err) => this.log.warn({ err: err.message, robot: this.robotId }, 'remote robot connection error'));
    socket.on('close', (code) => void this.onClose(code));
    const hello = setTimeout(() => this.state === 'hello' && this.close(CLOSE_CODES.helloTimeout, 'no hello'), deps.timings.helloTimeoutMs);
    const idle = setInterval(() => {
      if (Date.now() - this.lastSeen > deps.timings.idleTimeoutMs) {
        this.log.warn({ robot: this.robotId }, 'remote robot went silent; dropping its connection');
        socket.terminate();
      }
    }, Math.max(100, deps.timings.idleTimeoutMs / 4));
    this.timers.push(hello, idle);
  }

  get robotId(): string | undefined {
    return this.hello?.machine.id;
  }

  /** The Robot's queue, once hello was accepted. */
  get queueName(): string {
    return this.queue;
  }

  get lockToken(): string {
    return this.token_;
  }

  freeSlots(): number {
    if (this.state !== 'ready' || this.draining) return 0;
    return Math.max(0, (this.hello?.concurrency ?? 1) - this.owned.size);
  }

  owns(jobId: string): boolean {
    return this.owned.has(jobId);
  }

  send(message: ServerMessage): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.deps.metrics.messages.inc({ direction: 'out', type: message.type });
    this.socket.send(JSON.stringify(message));
  }

  cancel(jobId: string, reason: string): void {
    this.send({ v: PROTOCOL_VERSION, type: 'job.cancel', jobId, reason });
  }

  private close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
  }

  private onFrame(data: unknown, isBinary: boolean): void {
    this.lastSeen = Date.now();
    const text = isBinary ? undefined : Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data as Buffer[]).toString('utf8') : undefined;
    const parsed = text === undefined ? ({ ok: false, reason: 'binary frames are not part of the protocol' } as const) : parseFrame(clientMessage, text);
    if (!parsed.ok) {
      this.deps.metrics.messages.inc({ direction: 'in', type: 'invalid' });
      this.log.warn({ robot: this.robotId, reason: parsed.reason }, 'closing remote robot connection: malformed message');
      this.close(CLOSE_CODES.protocol, 'malformed message');
      return;
    }
    const message = parsed.message;
    this.deps.metrics.messages.inc({ direction: 'in', type: message.type });
    if ((message.type === 'hello') !== (this.state === 'hello')) {
      this.log.warn({ robot: this.robotId, type: message.type, state: this.state }, 'closing remote robot connection: message out of order');
      this.close(CLOSE_CODES.protocol, message.type === 'hello' ? 'hello sent twice' : 'hello first');
      return;
    }
    // One at a time, in order: a checkpoint is stored before the result that follows it.
    this.chain = this.chain
      .then(() => this.handle(message))
      .catch((err: unknown) => this.log.error({ err, robot: this.robotId, type: message.type }, 'remote robot message failed'));
  }

  private async handle(m: ClientMessage): Promise<void> {
    // Messages that arrived before a close are still handled: a result sent just before goodbye counts.
    switch (m.type) {
      case 'hello':
        return this.onHello(m);
      case 'heartbeat':
        return this.onHeartbeat(m);
      case 'job.progress': {
        const o = await this.ensureOwned(m.jobId);
        if (!o) return;
        const base = { jobId: m.jobId, queue: this.queue, robotId: this.robotId ?? '', at: m.at };
        this.deps.events.publish({ ...base, ...m.event } as ProgressEvent);
        if (m.event.type === 'node.started') {
          const robot = { id: base.robotId, name: this.hello?.robot.name ?? '' };
          await o.job.updateProgress({ state: 'running', currentNode: m.event.nodeId, finishedNodes: m.finishedNodes, totalNodes: m.totalNodes, robot });
        }
        return;
      }
      case 'job.checkpoint':
        if (await this.ensureOwned(m.jobId)) await this.deps.checkpoints.save(this.queue, m.jobId, m.checkpoint);
        return;
      case 'job.log': {
        const o = await this.ensureOwned(m.jobId);
        if (o) await o.job.log(`${m.at} ${m.level.toUpperCase()} ${m.nodeId ?? '-'} ${m.message}`);
        return;
      }
      case 'job.result':
        return this.onResult(m.jobId, m.result);
      case 'job.release': {
        const o = await this.ensureOwned(m.jobId);
        if (!o) return;
        this.log.info({ robot: this.robotId, job: m.jobId, reason: m.reason }, 'remote robot gave a job back');
        await o.job.moveToWait(this.lockToken);
        this.release(m.jobId);
        return;
      }
    }
  }

  private async onHello(m: HelloMessage): Promise<void> {
    this.state = 'authenticating';
    const { namespace, name } = m.robot;
    const verdict = this.deps.tokens && this.token ? await this.deps.tokens.check(namespace, name, this.token) : this.deps.tokens ? 'denied' : 'unavailable';
    if (verdict !== 'ok') {
      // Same answer for a wrong token and an unknown Robot; the log says which Robot was asked for.
      this.log.warn({ namespace, robot: name, machine: m.machine.id, verdict }, 'remote robot refused');
      if (verdict === 'denied') this.close(CLOSE_CODES.unauthorized, 'unauthorized');
      else this.close(CLOSE_CODES.internal, 'cannot check tokens now');
      return;
    }
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.hello = m;
    this.queue = queueName(namespace, name);
    this.token_ = `remote:${this.queue}:${m.machine.id}`;
    this.log = this.deps.logger.child({ robot: name, namespace, robotId: m.machine.id });
    const s = this.deps.settings;
    this.state = 'ready';
    this.deps.metrics.connected.inc({ namespace, robot: name });
    this.deps.onReady(this);
    this.send({ v: PROTOCOL_VERSION, type: 'welcome', robotId: m.machine.id, queue: this.queue, heartbeatMs: this.deps.timings.heartbeatMs, lockDurationMs: s.lockDurationMs });
    this.log.info({ machine: m.machine.hostname, os: m.os, concurrency: m.concurrency, version: m.version }, 'remote robot connected');
    await this.beatPresence(undefined);
    this.deps.dispatch.add(this);
  }

  private async onHeartbeat(m: HeartbeatMessage): Promise<void> {
    const wasDraining = this.draining;
    this.draining = m.draining;
    const running = new Set(m.running);
    for (const jobId of running) {
      const o = this.owned.get(jobId);
      if (!o) {
        // Adopt after a reconnect; refused when the lock is gone (the job is someone else's now).
        await this.ensureOwned(jobId);
        continue;
      }
      const extended = await o.job.extendLock(this.lockToken, this.deps.settings.lockDurationMs);
      if (!extended) this.lost(jobId, 'the job lock expired: another machine may run it now');
    }
    await this.beatPresence(m);
    if (wasDraining !== this.draining) this.deps.dispatch.nudge(this.queue);
  }

  private async onResult(jobId: string, result: JobResult): Promise<void> {
    const o = await this.ensureOwned(jobId);
    if (!o) return;
    try {
      const { clearCheckpoint } = await finishJob(o.job, this.lockToken, result);
      if (clearCheckpoint) await this.deps.checkpoints.clear(this.queue, jobId);
      const at = result.finishedAt;
      this.deps.events.publish({ type: 'job.finished', jobId, queue: this.queue, robotId: this.robotId ?? '', at, state: result.status, durationMs: result.durationMs, ...(result.error ? { error: result.error.message } : {}) });
      if (result.status !== 'succeeded') this.log.info({ job: jobId, status: result.status, error: result.error?.message }, 'job finished');
    } catch (err) {
      this.log.warn({ err: (err as Error).message, job: jobId }, 'could not record a remote result: the lock was lost');
      this.cancel(jobId, 'this machine no longer holds the job');
    } finally {
      this.release(jobId);
    }
  }

  /** The job if this machine holds its lock, adopting it (after a reconnect) when the lock token still matches. */
  private async ensureOwned(jobId: string): Promise<Owned | undefined> {
    const have = this.owned.get(jobId);
    if (have) return have;
    const job = await this.deps.jobs.queue(this.queue).getJob(jobId);
    const held = job ? await job.extendLock(this.lockToken, this.deps.settings.lockDurationMs) : 0;
    if (!job || !held) {
      this.cancel(jobId, 'this machine no longer holds the job');
      return undefined;
    }
    const o = { job };
    this.owned.set(jobId, o);
    this.log.info({ job: jobId }, 'adopted a running job after reconnect');
    return o;
  }

  private lost(jobId: string, reason: string): void {
    this.log.warn({ job: jobId }, reason);
    this.cancel(jobId, reason);
    this.release(jobId);
  }

  private release(jobId: string): void {
    this.owned.delete(jobId);
    if (this.state === 'ready') this.deps.dispatch.nudge(this.queue);
  }

  async assign(job: Job<JobPayload, JobResult>): Promise<void> {
    const jobId = String(job.id);
    const s = this.deps.settings;
    const [flag, raw] = await this.deps.redis.mget(keys.cancelFlag(s, jobId), keys.checkpoint(s, this.queue, jobId));
    const robot = { id: this.robotId ?? '', name: this.hello?.robot.name ?? '' };
    if (flag) {
      const now = new Date().toISOString();
      const result: JobResult = { status: 'cancelled', variables: {}, nodes: [], startedAt: now, finishedAt: now, durationMs: 0, error: { code: 'cancelled', message: flag }, robot };
      await finishJob(job, this.lockToken, result);
      await this.deps.checkpoints.clear(this.queue, jobId);
      return;
    }
    const resume = raw ? checkpointSchema.safeParse(JSON.parse(raw)).data : undefined;
    this.owned.set(jobId, { job });
    this.deps.events.publish({
      type: 'job.started',
      jobId,
      queue: this.queue,
      robotId: robot.id,
      at: new Date().toISOString(),
      attempt: job.attemptsStarted,
      ...(resume?.finished.length ? { resumeAfter: resume.finished.at(-1) } : {}),
    });
    this.send({ v: PROTOCOL_VERSION, type: 'job.assign', jobId, attempt: Math.max(1, job.attemptsStarted), payload: job.data, ...(resume ? { checkpoint: resume } : {}), enqueuedAt: job.timestamp });
  }

  private async beatPresence(h: HeartbeatMessage | undefined): Promise<void> {
    if (!this.hello) return;
    const p = remotePresence(this.hello, h, { running: [...this.owned.keys()], draining: this.draining, startedAt: this.startedAt });
    await this.deps.presence.beat(p).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'presence write failed'));
  }

  private async onClose(code: number): Promise<void> {
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    for (const t of this.timers) clearTimeout(t);
    if (!wasReady || !this.hello) return;
    this.deps.dispatch.remove(this);
    const { namespace, name } = this.hello.robot;
    this.deps.metrics.connected.dec({ namespace, robot: name });
    this.deps.onClosed(this);
    // Locks of running jobs are left to expire: the machine may be back before they do.
    this.log.info({ code, running: [...this.owned.keys()] }, 'remote robot disconnected');
    await this.chain.catch(() => undefined);
    if (!this.deps.stillConnected(this.hello.machine.id)) await this.deps.presence.remove(this.hello.machine.id).catch(() => undefined);
  }
}
