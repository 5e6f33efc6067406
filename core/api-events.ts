/**
 * The live events feed (GET /api/v1/events, WebSocket or Server-Sent Events): its query, its
 * messages, and the pure decisions behind it (who sees what, what counts as a presence change).
 */
import { z } from 'zod';
import { type Principal, namespaceAllowed } from './api.js';
import { type ProgressEvent, progressEvent } from './events.js';
import { jobState, type JobState } from './job.js';
import { namespaceName } from './meta.js';
import { type RobotPresence, robotPresence } from './presence.js';
import { parseQueueName } from './queue.js';

export const eventsQuery = z.object({
  job: z.string().min(1).max(200).optional().describe('only this job\'s progress events (presence changes are left out)'),
  robot: z.string().min(1).max(253).optional().describe('only events of this Robot (its jobs and its instances)'),
  namespace: namespaceName.optional().describe('only events of this namespace; a scoped key may only name its own'),
  access_token: z.string().optional().describe('the API key, for WebSocket clients that cannot set headers (browsers)'),
  last_event_id: z.string().regex(/^\d+-\d+$/).optional().describe('resume after this stream id; SSE clients send the Last-Event-ID header instead'),
});
export type EventsQuery = z.infer<typeof eventsQuery>;

const progressMessage = z.object({
  type: z.literal('progress'),
  /** Stream id; events written in one flush share it. */
  id: z.string(),
  namespace: z.string(),
  robot: z.string(),
  jobId: z.string(),
  /** Set on job.started and job.finished: the job's state from now on. */
  state: jobState.optional(),
  event: progressEvent,
});

const presenceMessage = z.object({
  type: z.literal('presence'),
  change: z.enum(['joined', 'left', 'changed']),
  namespace: z.string(),
  robot: z.string(),
  robotId: z.string(),
  /** The instance as last seen (for `left`, before it went). */
  presence: robotPresence,
});

/** Sent once when the subscription is live: events written after it are delivered. */
const readyMessage = z.object({ type: z.literal('ready'), namespaces: z.array(z.string()) });

export const liveMessage = z.discriminatedUnion('type', [progressMessage, presenceMessage, readyMessage]).meta({ id: 'LiveEvent' });
export type LiveMessage = z.infer<typeof liveMessage>;
export type ProgressMessage = z.infer<typeof progressMessage>;
export type PresenceMessage = z.infer<typeof presenceMessage>;

/** What one subscriber asked for, narrowed to what its key may see. `namespaces` undefined is all of them. */
export interface EventFilter {
  job?: string;
  robot?: string;
  namespaces?: ReadonlySet<string>;
}

/**
 * The filter for a caller, or the namespace it may not read. A key scoped to some namespaces and
 * asking for none gets exactly those.
 */
export function eventFilter(p: Principal, q: Pick<EventsQuery, 'job' | 'robot' | 'namespace'>): { filter: EventFilter } | { forbidden: string } {
  if (q.namespace !== undefined && !namespaceAllowed(p, q.namespace)) return { forbidden: q.namespace };
  const namespaces = q.namespace !== undefined ? new Set([q.namespace]) : p.namespaces.includes('*') ? undefined : new Set(p.namespaces);
  return { filter: { ...(q.job !== undefined ? { job: q.job } : {}), ...(q.robot !== undefined ? { robot: q.robot } : {}), ...(namespaces ? { namespaces } : {}) } };
}

export function matches(f: EventFilter, m: ProgressMessage | PresenceMessage): boolean {
  if (f.namespaces && !f.namespaces.has(m.namespace)) return false;
  if (f.robot !== undefined && m.robot !== f.robot) return false;
  if (f.job !== undefined) return m.type === 'progress' && m.jobId === f.job;
  return true;
}

/** Undefined for an event whose queue is not a robot queue: nobody could be allowed to see it. */
export function toProgressMessage(id: string, event: ProgressEvent): ProgressMessage | undefined {
  let where: { namespace: string; robot: string };
  try {
    where = parseQueueName(event.queue);
  } catch {
    return undefined;
  }
  const state: JobState | undefined = event.type === 'job.started' ? 'running' : event.type === 'job.finished' ? event.state : undefined;
  return { type: 'progress', id, ...where, jobId: event.jobId, ...(state ? { state } : {}), event };
}

/**
 * Heartbeats refresh cpu, memory and timestamps every few seconds; only these fields make an
 * instance "changed", or every poll would report every robot.
 */
function significant(p: RobotPresence): string {
  return JSON.stringify([p.runningJobs, p.draining, p.concurrency, p.capabilities, p.version, p.mode]);
}

/** Joined, left and changed instances between two presence snapshots keyed by instance id. */
export function presenceChanges(before: ReadonlyMap<string, RobotPresence>, after: ReadonlyMap<string, RobotPresence>): PresenceMessage[] {
  const out: PresenceMessage[] = [];
  const msg = (change: PresenceMessage['change'], p: RobotPresence): PresenceMessage => ({ type: 'presence', change, namespace: p.namespace, robot: p.robot, robotId: p.id, presence: p });
  for (const [id, p] of after) {
    const old = before.get(id);
    if (!old) out.push(msg('joined', p));
    else if (significant(old) !== significant(p)) out.push(msg('changed', p));
  }
  for (const [id, p] of before) if (!after.has(id)) out.push(msg('left', p));
  return out;
}

/** Orders Redis stream ids (`<ms>-<seq>`); numbers would lose precision past 2^53, so BigInt. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm) || BigInt(as) - BigInt(bs);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** One SSE frame; `id` only on stream events, so presence frames leave the client's resume point alone. */
export function sseFrame(m: LiveMessage): string {
  const id = m.type === 'progress' ? `id: ${m.id}\n` : '';
  return `${id}event: ${m.type}\ndata: ${JSON.stringify(m)}\n\n`;
}
