import { cpus, freemem, hostname, release, totalmem } from 'node:os';
import { WebSocket } from 'ws';
import { createLogger, type Logger } from '../../core/logger.js';
import { CLOSE_CODES, type ClientMessageInput, parseFrame, PROTOCOL_VERSION, type ServerMessage, serverMessage } from '../../core/protocol.js';
import { VERSION } from '../../core/version.js';
import { BrowserPool } from '../browser-pool.js';
import { RunAborted } from '../engine/errors.js';
import { RunningJobs } from '../running-jobs.js';
import { ValidationCache } from '../../core/validation-cache.js';
import { reconnectDelay } from './backoff.js';
import type { RemoteRobotConfig } from './config.js';
import { runRemoteJob } from './job-runner.js';

export const CONNECT_PATH = 'api/v1/robots/connect';

/** The WebSocket URL of the connect endpoint under an API base URL (http -> ws, https -> wss). */
export function connectUrl(apiUrl: string): string {
  const base = new URL(apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`);
  const url = new URL(CONNECT_PATH, base);
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
  return url.toString();
}

export class JoinRefused extends Error {
  constructor() {
    super('the API refused the join token (or the Robot is not a remote Robot)');
    this.name = 'JoinRefused';
  }
}

/**
 * A remote robot machine: keeps one WebSocket to the API, reconnecting with backoff and jitter,
 * runs the jobs it is assigned and reports on them. Messages about jobs wait in an outbox while
 * the connection is down; running jobs go on, and their locks are adopted back after reconnect
 * when they have not expired meanwhile.
 */
export class RemoteRobot {
  readonly logger: Logger;
  private ws?: WebSocket;
  private welcomed = false;
  private attempt = 0;
  private readonly outbox: ClientMessageInput[] = [];
  private readonly running = new RunningJobs();
  private readonly tasks = new Set<Promise<void>>();
  private readonly browsers: BrowserPool;
  private readonly validations = new ValidationCache();
  private heartbeatTimer?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  private draining = false;
  private stopped = false;
  private stopping?: Promise<void>;
  private lastCpu = process.cpuUsage();
  private lastCpuAt = performance.now();
  private firstWelcome?: { resolve: (queue: string) => void; reject: (err: Error) => void };
  queue = '';
  /** Called when the API refuses the token after start-up; the CLI exits. */
  onFatal: (err: Error) => void = () => undefined;

  constructor(readonly cfg: RemoteRobotConfig) {
    this.logger = createLogger('robot', { robot: cfg.name, robotId: cfg.id, mode: 'remote' });
    this.browsers = new BrowserPool({ executablePath: cfg.chromiumPath, artifactsDir: cfg.artifactsDir });
  }

  /** Connects and resolves with the queue name once welcomed; rejects when the token is refused. */
  start(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.firstWelcome = { resolve, reject };
      this.connect();
    });
  }

  runningJobs(): string[] {
    return this.running.ids();
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(connectUrl(this.cfg.apiUrl), { headers: { authorization: `Bearer ${this.cfg.token}` }, handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.on('open', () => {
      const c = this.cfg;
      const hello: ClientMessageInput = {
        v: PROTOCOL_VERSION,
        type: 'hello',
        robot: { namespace: c.namespace, name: c.name },
        machine: { id: c.id, hostname: hostname(), pid: process.pid },
        os: { platform: process.platform, release: release(), arch: process.arch },
        version: VERSION,
        capabilities: c.capabilities,
        concurrency: c.concurrency,
      };
      ws.send(JSON.stringify(hello));
    });
    ws.on('message', (data, isBinary) => {
      const parsed = isBinary ? undefined : parseFrame(serverMessage, Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      if (!parsed?.ok) {
        this.logger.warn({ reason: parsed?.reason ?? 'binary frame' }, 'ignoring a malformed message from the API');
        return;
      }
      this.onMessage(parsed.message);
    });
    ws.on('error', (err) => this.logger.warn({ err: err.message }, 'connection error'));
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
  }

  private onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'welcome': {
        this.welcomed = true;
        this.attempt = 0;
        this.queue = m.queue;
        this.logger.info({ queue: m.queue, heartbeatMs: m.heartbeatMs }, 'connected');
        clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = setInterval(() => this.heartbeat(), m.heartbeatMs);
        // First the running jobs (their locks are adopted), then whatever waited for the connection.
        this.heartbeat();
        for (const queued of this.outbox.splice(0)) this.transmit(queued);
        this.firstWelcome?.resolve(m.queue);
        this.firstWelcome = undefined;
        return;
      }
      case 'job.assign': {
        const task = runRemoteJob(m, {
          robot: { id: this.cfg.id, name: this.cfg.name },
          services: this.browsers,
          running: this.running,
          validations: this.validations,
          defaultJobTimeoutSeconds: this.cfg.defaultJobTimeoutSeconds,
          logger: this.logger,
          send: (msg) => this.send(msg),
          runningChanged: () => this.heartbeat(),
        }).catch((err: unknown) => this.logger.error({ err, job: m.jobId }, 'remote job crashed'));
        this.tasks.add(task);
        void task.finally(() => this.tasks.delete(task));
        return;
      }
      case 'job.cancel': {
        const controller = this.running.controller(m.jobId);
        if (controller) {
          this.logger.info({ job: m.jobId, reason: m.reason }, 'cancelling running job');
          controller.abort(new RunAborted('cancelled', m.reason));
        }
        return;
      }
      case 'error':
        this.logger.warn({ code: m.code, message: m.message }, 'the API reported an error');
        return;
    }
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    const wasWelcomed = this.welcomed;
    this.welcomed = false;
    clearInterval(this.heartbeatTimer);
    if (code === CLOSE_CODES.unauthorized) {
      const err = new JoinRefused();
      this.logger.error({ code, reason }, err.message);
      this.stopped = true;
      if (this.firstWelcome) this.firstWelcome.reject(err);
      else this.onFatal(err);
      this.firstWelcome = undefined;
      return;
    }
    if (this.stopped) return;
    const delay = reconnectDelay(this.attempt++, this.cfg.reconnectInitialMs, this.cfg.reconnectMaxMs);
    this.logger.warn({ code, reason, wasWelcomed, running: this.running.ids(), retryInMs: delay }, 'disconnected; reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Job messages: sent now when welcomed, else kept for the next connection. */
  private send(m: ClientMessageInput): void {
    if (this.welcomed) {
      this.transmit(m);
      return;
    }
    this.outbox.push(m);
    if (this.outbox.length > this.cfg.outboxLimit) {
      const log = this.outbox.findIndex((x) => x.type === 'job.log' || x.type === 'job.progress');
      this.outbox.splice(log >= 0 ? log : 0, 1);
    }
  }

  private transmit(m: ClientMessageInput): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      this.outbox.push(m);
      return;
    }
    ws.send(JSON.stringify(m));
  }

  private heartbeat(): void {
    if (!this.welcomed) return;
    const cpu = process.cpuUsage(this.lastCpu);
    const now = performance.now();
    const elapsedMs = Math.max(1, now - this.lastCpuAt);
    this.lastCpu = process.cpuUsage();
    this.lastCpuAt = now;
    const cores = cpus().length || 1;
    const mem = process.memoryUsage();
    this.transmit({
      v: PROTOCOL_VERSION,
      type: 'heartbeat',
      running: this.running.ids(),
      draining: this.draining,
      cpu: { percent: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs / cores) * 1000) / 10, cores },
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, totalBytes: totalmem(), freeBytes: freemem() },
    });
  }

  /** Graceful stop, safe to call more than once: no new jobs, running ones get the grace period, then go back with their checkpoints. */
  stop(graceMs = this.cfg.shutdownGraceMs): Promise<void> {
    this.stopping ??= this.drain(graceMs);
    return this.stopping;
  }

  private async drain(graceMs: number): Promise<void> {
    this.draining = true;
    this.heartbeat();
    this.logger.info({ running: this.running.size, graceMs }, 'draining');
    const timer = setTimeout(() => this.running.abortAll(() => new RunAborted('shutdown', 'robot is shutting down')), graceMs);
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
    clearTimeout(timer);
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      // Let results and releases reach the server before saying goodbye.
      const deadline = Date.now() + 5_000;
      while (ws.bufferedAmount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(CLOSE_CODES.normal, 'robot stopping');
        setTimeout(resolve, 2_000).unref();
      });
    } else if (this.outbox.length > 0) {
      this.logger.warn({ messages: this.outbox.length }, 'stopping while disconnected: unsent job messages are lost; locks expire and jobs resume elsewhere');
    }
    await this.browsers.close();
    this.logger.info('stopped');
    this.logger.flush();
  }
}
