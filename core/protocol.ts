import { z } from 'zod';
import { checkpoint } from './checkpoint.js';
import { jobResult } from './job.js';
import { namespaceName, resourceName } from './meta.js';

/**
 * The remote robot protocol: JSON text frames over one WebSocket at /api/v1/robots/connect,
 * authenticated by the Robot's join token (`Authorization: Bearer rpat_...`). Every message
 * carries `v: 1` and a `type`. The first client message must be `hello`; the server answers
 * `welcome` and from then on assigns jobs. Unknown fields are ignored, so either side may add
 * optional ones without a new version.
 */
export const PROTOCOL_VERSION = 1;
const v = z.literal(PROTOCOL_VERSION);

/** WebSocket close codes the server uses; 1009 (too big) comes from the ws library itself. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  unauthorized: 4401,
  protocol: 4400,
  helloTimeout: 4408,
} as const;

const jobIdField = z.string().min(1).max(200);
/** Machine ids become presence ids and lock tokens: one path segment, no ':' or white space. */
export const machineId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, { message: 'letters, digits, ".", "_" and "-", at most 128' });

export const cpuSample = z.object({ percent: z.number().min(0), cores: z.number().int().min(1) });
export const memorySample = z.object({ rssBytes: z.number().min(0), heapUsedBytes: z.number().min(0), totalBytes: z.number().min(0), freeBytes: z.number().min(0) });

// ---- client -> server ----

export const helloMessage = z.object({
  v,
  type: z.literal('hello'),
  robot: z.object({ namespace: namespaceName, name: resourceName }),
  machine: z.object({ id: machineId, hostname: z.string().min(1).max(253), pid: z.number().int().min(0) }),
  os: z.object({ platform: z.string().max(64), release: z.string().max(128), arch: z.string().max(64) }),
  version: z.string().max(64).default('unknown'),
  capabilities: z.array(z.string().min(1).max(63)).max(64).default([]),
  concurrency: z.number().int().min(1).max(64),
});

export const heartbeatMessage = z.object({
  v,
  type: z.literal('heartbeat'),
  /** Jobs the machine runs now; the server renews their locks and only theirs. */
  running: z.array(jobIdField).max(64),
  /** A draining machine finishes what it runs and is given nothing new. */
  draining: z.boolean().default(false),
  cpu: cpuSample,
  memory: memorySample,
});

const nodeEventBase = { nodeId: z.string().max(1000), nodeType: z.string().max(100) };
export const nodeEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('node.started'), ...nodeEventBase, attempt: z.number().int().min(1) }),
  z.object({ type: z.literal('node.finished'), ...nodeEventBase, durationMs: z.number().min(0) }),
  z.object({ type: z.literal('node.failed'), ...nodeEventBase, durationMs: z.number().min(0), error: z.string().max(8_000), willRetry: z.boolean() }),
]);
export type NodeEventMessage = z.infer<typeof nodeEvent>;

export const jobProgressMessage = z.object({
  v,
  type: z.literal('job.progress'),
  jobId: jobIdField,
  at: z.string().max(64),
  event: nodeEvent,
  finishedNodes: z.number().int().min(0),
  totalNodes: z.number().int().min(0),
});

export const jobCheckpointMessage = z.object({ v, type: z.literal('job.checkpoint'), jobId: jobIdField, checkpoint });

export const jobLogMessage = z.object({
  v,
  type: z.literal('job.log'),
  jobId: jobIdField,
  at: z.string().max(64),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  nodeId: z.string().max(1000).optional(),
  message: z.string().max(16_000),
});

export const jobResultMessage = z.object({ v, type: z.literal('job.result'), jobId: jobIdField, result: jobResult });

/** The machine gives a job back (it is shutting down): it goes back to the queue with its checkpoint. */
export const jobReleaseMessage = z.object({ v, type: z.literal('job.release'), jobId: jobIdField, reason: z.string().max(1000) });

export const clientMessage = z.discriminatedUnion('type', [
  helloMessage,
  heartbeatMessage,
  jobProgressMessage,
  jobCheckpointMessage,
  jobLogMessage,
  jobResultMessage,
  jobReleaseMessage,
]);
export type ClientMessage = z.infer<typeof clientMessage>;
export type ClientMessageInput = z.input<typeof clientMessage>;
export type HelloMessage = z.infer<typeof helloMessage>;
export type HeartbeatMessage = z.infer<typeof heartbeatMessage>;

// ---- server -> client ----

export const welcomeMessage = z.object({
  v,
  type: z.literal('welcome'),
  /** This machine's id in presence, events and job results. */
  robotId: z.string(),
  queue: z.string(),
  /** Send a heartbeat at least this often: locks of running jobs live only as long as heartbeats come. */
  heartbeatMs: z.number().int().min(100),
  lockDurationMs: z.number().int().min(1),
});

export const jobAssignMessage = z.object({
  v,
  type: z.literal('job.assign'),
  jobId: jobIdField,
  /** 1 on a job's first start; more when it was taken again after a crash or retry. */
  attempt: z.number().int().min(1),
  /** The queued payload as submitted (core/job.ts jobPayload); the machine validates the workflow. */
  payload: z.unknown(),
  /** Where an earlier, interrupted run stopped; the machine resumes from here. */
  checkpoint: checkpoint.optional(),
  /** When the job was enqueued (ms since epoch). */
  enqueuedAt: z.number(),
});

export const jobCancelMessage = z.object({ v, type: z.literal('job.cancel'), jobId: jobIdField, reason: z.string() });

export const errorMessageSchema = z.object({ v, type: z.literal('error'), code: z.string(), message: z.string() });

export const serverMessage = z.discriminatedUnion('type', [welcomeMessage, jobAssignMessage, jobCancelMessage, errorMessageSchema]);
export type ServerMessage = z.infer<typeof serverMessage>;
export type JobAssignMessage = z.infer<typeof jobAssignMessage>;

/** Parses one text frame; undefined with the reason when it is not JSON or not a message of this side. */
export function parseFrame<T>(schema: z.ZodType<T>, text: string): { ok: true; message: T } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: first ? `${first.path.join('.') || 'message'}: ${first.message}` : 'invalid message' };
  }
  return { ok: true, message: parsed.data };
}
