import type { FastifyPluginAsync } from 'fastify';
import { keys } from '../../core/queue.js';
import { CheckpointStore } from '../../dataplane/checkpoints.js';
import { EventLog } from '../../dataplane/events.js';
import { PresenceStore } from '../../dataplane/presence.js';
import type { ApiDeps } from '../deps.js';
import { remoteMetrics } from './metrics.js';
import { RobotTokens } from './robot-tokens.js';
import { QueueDispatcher } from './dispatcher.js';
import { RemoteSession, type SessionTimings } from './session.js';
import { bearerToken } from '../auth/plugin.js';

export const REMOTE_DEFAULTS = {
  helloTimeoutMs: 10_000,
  /** Idle connections are dropped after this many lock durations without a message. */
  idleLockDurations: 2,
} as const;

/** Heartbeats three times per lock duration, and no slower than the data plane's heartbeat interval. */
export function sessionTimings(lockDurationMs: number, heartbeatIntervalMs: number): SessionTimings {
  const heartbeatMs = Math.max(100, Math.min(heartbeatIntervalMs, Math.floor(lockDurationMs / 3)));
  return { helloTimeoutMs: REMOTE_DEFAULTS.helloTimeoutMs, heartbeatMs, idleTimeoutMs: lockDurationMs * REMOTE_DEFAULTS.idleLockDurations };
}

/**
 * GET /api/v1/robots/connect: remote robots join over a WebSocket with their Robot's join token
 * (core/protocol.ts). Public as far as API keys go: the join token is checked on hello.
 */
export const remoteRobotsRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  const sessions = new Set<RemoteSession>();
  const workerConnection = deps.redis.duplicate({ maxRetriesPerRequest: null });
  const subscriber = deps.redis.duplicate({ enableAutoPipelining: false });
  const events = new EventLog(deps.redis, deps.settings, (err) => app.log.warn({ err }, 'could not publish events'));
  const tokens = deps.kc ? new RobotTokens(deps.kc) : undefined;
  const logger = deps.logger ?? app.log;
  const dispatchers = new Map<string, QueueDispatcher>();
  const dispatcherFor = (queue: string) => {
    let d = dispatchers.get(queue);
    if (!d) {
      const created = new QueueDispatcher(queue, { connection: workerConnection, settings: deps.settings, logger }, () => {
        if (dispatchers.get(queue) === created) dispatchers.delete(queue);
      });
      dispatchers.set(queue, created);
      d = created;
    }
    return d;
  };
  const sessionDeps = {
    redis: deps.redis,
    dispatch: {
      add: (s: RemoteSession) => dispatcherFor(s.queueName).add(s),
      remove: (s: RemoteSession) => dispatchers.get(s.queueName)?.remove(s),
      nudge: (queue: string) => dispatchers.get(queue)?.nudge(),
    },
    settings: deps.settings,
    jobs: deps.jobs,
    ...(tokens ? { tokens } : {}),
    checkpoints: new CheckpointStore(deps.redis, deps.settings),
    events,
    presence: new PresenceStore(deps.redis, deps.settings),
    metrics: remoteMetrics(deps.registry),
    logger,
    timings: sessionTimings(deps.settings.lockDurationMs, deps.settings.heartbeatIntervalMs),
    onReady: (s: RemoteSession) => sessions.add(s),
    onClosed: (s: RemoteSession) => sessions.delete(s),
    stillConnected: (robotId: string) => [...sessions].some((s) => s.robotId === robotId),
  };

  // Cancellations reach the machine running the job through the session holding it.
  await subscriber.subscribe(keys.cancelChannel(deps.settings));
  subscriber.on('message', (_channel: string, message: string) => {
    let parsed: { jobId?: unknown; reason?: unknown };
    try {
      parsed = JSON.parse(message) as { jobId?: unknown; reason?: unknown };
    } catch {
      return;
    }
    if (typeof parsed.jobId !== 'string') return;
    for (const s of sessions) if (s.owns(parsed.jobId)) s.cancel(parsed.jobId, typeof parsed.reason === 'string' ? parsed.reason : 'cancelled by request');
  });

  app.addHook('onClose', async () => {
    await subscriber.quit().catch(() => undefined);
    await events.flush();
    await Promise.all([...dispatchers.values()].map((d) => d.close()));
    await workerConnection.quit().catch(() => undefined);
  });

  app.get('/robots/connect', { websocket: true, config: { role: 'public' }, schema: { tags: ['robots'], summary: 'Remote robot WebSocket (see core/protocol.ts)', hide: true } }, (socket, req) => {
    const token = bearerToken(req.headers.authorization);
    new RemoteSession(socket, token, { ...sessionDeps, logger: logger.child({ remote: req.ip }) });
  });
};
