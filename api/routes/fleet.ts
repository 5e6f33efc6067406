import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { errorBody, namespaceParams, type Principal } from '../../core/api.js';
import {
  addCounts,
  FLEET_DEFAULTS,
  type FinishedRun,
  type FleetQueue,
  fleetQuery,
  type FleetSummary,
  fleetSummary,
  globEscape,
  NO_JOBS,
  queueOfKey,
  robotCountsOf,
  summarizeRuns,
} from '../../core/api-fleet.js';
import type { RobotPresence } from '../../core/presence.js';
import { type DataPlaneSettings, parseQueueName, queueName } from '../../core/queue.js';
import { PresenceStore } from '../../dataplane/presence.js';
import type { ApiDeps } from '../deps.js';

export const QUEUE_DISCOVERY_DEFAULTS = {
  /** Keys SCAN looks at per call. */
  scanCount: 1_000,
  /** How long a discovered queue list is reused: a full SCAN walks the whole keyspace. */
  cacheMs: 15_000,
} as const;

/**
 * The robot queues in Redis, found from BullMQ's `<prefix>:<queue>:meta` keys (every queue that
 * ever had a job has one) with SCAN, never KEYS, and remembered for a little while.
 */
export class QueueDirectory {
  private cached?: { at: number; queues: Promise<string[]> };

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly opts: { scanCount: number; cacheMs: number } = QUEUE_DISCOVERY_DEFAULTS,
  ) {}

  list(): Promise<string[]> {
    if (this.cached && Date.now() - this.cached.at < this.opts.cacheMs) return this.cached.queues;
    const queues = this.scan();
    this.cached = { at: Date.now(), queues };
    queues.catch(() => {
      if (this.cached?.queues === queues) this.cached = undefined;
    });
    return queues;
  }

  private async scan(): Promise<string[]> {
    const found = new Set<string>();
    const match = `${globEscape(this.prefix)}:*:meta`;
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', this.opts.scanCount);
      cursor = next;
      for (const key of batch) {
        const q = queueOfKey(this.prefix, key, 'meta');
        if (q) found.add(q);
      }
    } while (cursor !== '0');
    return [...found].sort();
  }
}

/** Finished jobs of one queue in the window, newest first and at most `max` per set. */
async function finishedRuns(redis: Redis, prefix: string, queue: string, sinceMs: number, max: number): Promise<{ runs: FinishedRun[]; truncated: boolean }> {
  const runs: FinishedRun[] = [];
  let truncated = false;
  for (const set of ['completed', 'failed'] as const) {
    // Finished sets are scored by finish time, so the window is a score range.
    const ids = await redis.zrevrangebyscore(`${prefix}:${queue}:${set}`, '+inf', sinceMs, 'LIMIT', 0, max + 1);
    if (ids.length > max) truncated = true;
    const chosen = ids.slice(0, max);
    if (chosen.length === 0) continue;
    const pipe = redis.pipeline();
    for (const id of chosen) pipe.hmget(`${prefix}:${queue}:${id}`, 'processedOn', 'finishedOn');
    for (const [err, value] of (await pipe.exec()) ?? []) {
      if (err || !Array.isArray(value)) continue;
      const [processedOn, finishedOn] = value.map(Number);
      // Removed between the two reads, or failed before it ever started (bad payload): no run time.
      if (!finishedOn) continue;
      runs.push({ ok: set === 'completed', durationMs: processedOn ? Math.max(0, finishedOn - processedOn) : 0 });
    }
  }
  return { runs, truncated };
}

/** Namespaces a key covers: a set, or '*' for all of them. */
export function scopeOf(p: Principal | undefined): ReadonlySet<string> | '*' {
  if (!p || p.namespaces.includes('*')) return '*';
  return new Set(p.namespaces);
}

export async function readFleet(
  deps: { redis: Redis; settings: DataPlaneSettings; jobs: ApiDeps['jobs'] },
  directory: QueueDirectory,
  scope: ReadonlySet<string> | '*',
  windowSeconds: number,
  now = Date.now(),
): Promise<FleetSummary> {
  const inScope = (ns: string) => scope === '*' || scope.has(ns);
  const [known, presences] = await Promise.all([directory.list(), new PresenceStore(deps.redis, deps.settings).list()]);
  const live = new Map<string, RobotPresence[]>();
  for (const p of presences) {
    if (!inScope(p.namespace)) continue;
    const q = queueName(p.namespace, p.robot);
    live.set(q, [...(live.get(q) ?? []), p]);
  }
  // A robot that is up but never had a job has presence and no queue keys yet.
  const names = [...new Set([...known.filter((q) => inScope(parseQueueName(q).namespace)), ...live.keys()])].sort();
  const sinceMs = now - windowSeconds * 1000;
  const rows = await Promise.all(
    names.map(async (queue) => {
      const [jobs, finished] = await Promise.all([deps.jobs.counts(queue), finishedRuns(deps.redis, deps.settings.prefix, queue, sinceMs, FLEET_DEFAULTS.maxJobsScannedPerSet)]);
      const row: FleetQueue = { ...parseQueueName(queue), queue, jobs, robots: robotCountsOf(live.get(queue) ?? []), window: summarizeRuns(finished.runs, finished.truncated) };
      return { row, finished };
    }),
  );
  const queues = rows.map((r) => r.row);
  const instances = [...live.values()].flat();
  return {
    windowSeconds,
    namespaces: scope === '*' ? ['*'] : [...scope].sort(),
    robots: { ...robotCountsOf(instances), offline: queues.filter((q) => q.robots.online === 0).length },
    jobs: queues.reduce((sum, q) => addCounts(sum, q.jobs), NO_JOBS),
    // Percentiles do not combine: the fleet's come from every queue's runs together.
    window: summarizeRuns(rows.flatMap((r) => r.finished.runs), rows.some((r) => r.finished.truncated)),
    queues,
  };
}

/** GET /fleet and GET /namespaces/:namespace/fleet: robots, queues and recent outcomes at a glance. */
export const fleetRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  const directory = new QueueDirectory(deps.redis, deps.settings.prefix);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const responses = { 200: fleetSummary, 400: errorBody, 401: errorBody, 403: errorBody };
  r.get(
    '/fleet',
    { config: { role: 'viewer' }, schema: { tags: ['fleet'], summary: 'Fleet overview across the namespaces the key may see', querystring: fleetQuery, response: responses } },
    async (req) => readFleet(deps, directory, scopeOf(req.principal), req.query.window),
  );
  r.get(
    '/namespaces/:namespace/fleet',
    { config: { role: 'viewer' }, schema: { tags: ['fleet'], summary: 'Fleet overview of one namespace', params: namespaceParams, querystring: fleetQuery, response: responses } },
    async (req) => readFleet(deps, directory, new Set([req.params.namespace]), req.query.window),
  );
};
