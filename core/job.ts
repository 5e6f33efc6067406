import { z } from 'zod';
import { API_GROUP_VERSION, objectMeta, resourceName } from './meta.js';
import { workflowSpec } from './workflow.js';

export const JOB_STATES = ['queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export const jobState = z.enum(JOB_STATES);
export type JobState = z.infer<typeof jobState>;
export const FINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/** Higher runs first, as with Kubernetes PriorityClass values. */
export const jobPriority = z.number().int().min(0).max(100);
export const DEFAULT_PRIORITY = 50;

export const robotSelector = z
  .object({
    name: resourceName.optional(),
    capabilities: z.array(z.string().min(1)).optional(),
  })
  .refine((s) => s.name !== undefined || (s.capabilities?.length ?? 0) > 0, {
    message: 'name a robot or list the capabilities it needs',
  });

/** The Job custom resource's spec. */
export const jobSpec = z.object({
  workflowRef: z.object({ name: resourceName }),
  variables: z.record(z.string(), z.unknown()).default({}),
  priority: jobPriority.default(DEFAULT_PRIORITY),
  robotSelector: robotSelector,
  timeoutSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
  retries: z.number().int().min(0).max(20).default(0),
  /** RFC 3339 time after which a job that has not started is failed instead of run. */
  deadline: z.iso.datetime({ offset: true }).optional(),
  ttlSecondsAfterFinished: z.number().int().min(0).optional(),
  cancel: z.boolean().default(false),
});
export type JobSpec = z.infer<typeof jobSpec>;

export const jobManifest = z.object({
  apiVersion: z.literal(API_GROUP_VERSION),
  kind: z.literal('Job'),
  metadata: objectMeta,
  spec: jobSpec,
});

export const jobSource = z.object({
  kind: z.enum(['cli', 'api', 'cr', 'schedule']),
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
});

/**
 * What goes into the queue. The workflow travels inline, snapshotted at submit time, so a
 * robot needs no access to the Kubernetes API and a later edit cannot change a queued run.
 */
export const jobPayload = z.object({
  v: z.literal(1),
  workflow: z.object({ name: z.string().min(1), spec: workflowSpec, hash: z.string().optional() }),
  variables: z.record(z.string(), z.unknown()).default({}),
  timeoutSeconds: z.number().int().min(1).optional(),
  deadline: z.iso.datetime({ offset: true }).optional(),
  submittedAt: z.iso.datetime({ offset: true }),
  source: jobSource.default({ kind: 'cli' }),
});
export type JobPayload = z.infer<typeof jobPayload>;

/** The payload with its workflow left unchecked, for readers that validate (and cache) the graph separately. */
export const jobPayloadEnvelope = jobPayload.extend({
  workflow: z.object({ name: z.string().min(1), spec: z.unknown(), hash: z.string().optional() }),
});
export type JobPayloadInput = z.input<typeof jobPayload>;

export const nodeRun = z.object({
  /** Qualified id: `loop[2].inner` for a node inside the third forEach iteration. */
  id: z.string(),
  type: z.string(),
  status: z.enum(['succeeded', 'failed', 'skipped']),
  attempts: z.number().int(),
  startedAt: z.string(),
  durationMs: z.number(),
  error: z.string().optional(),
});
export type NodeRun = z.infer<typeof nodeRun>;

export const jobError = z.object({
  code: z.enum(['node_failed', 'cancelled', 'timed_out', 'invalid_payload', 'invalid_workflow', 'invalid_input', 'deadline_exceeded', 'shutdown', 'internal']),
  message: z.string(),
  nodeId: z.string().optional(),
});
export type JobError = z.infer<typeof jobError>;

export const jobResult = z.object({
  status: z.enum(['succeeded', 'failed', 'cancelled', 'timed_out']),
  variables: z.record(z.string(), z.unknown()),
  nodes: z.array(nodeRun),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  /** The node a crashed run resumed after, when it did. */
  resumedAfter: z.string().optional(),
  error: jobError.optional(),
  robot: z.object({ id: z.string(), name: z.string() }).optional(),
});
export type JobResult = z.infer<typeof jobResult>;

/** What a robot writes into BullMQ's `progress` field: the live summary readers poll. */
export const jobProgress = z.object({
  state: jobState,
  currentNode: z.string().optional(),
  finishedNodes: z.number().int(),
  totalNodes: z.number().int(),
  robot: z.object({ id: z.string(), name: z.string() }).optional(),
  /** Present once the run ended unsuccessfully: failed jobs keep their result here. */
  result: jobResult.optional(),
});
export type JobProgress = z.infer<typeof jobProgress>;

/** A job as readers (`rpa job get`, the API) see it, whatever its BullMQ state. */
export interface JobView {
  id: string;
  queue: string;
  workflow: string;
  state: JobState;
  priority: number;
  attemptsMade: number;
  attemptsAllowed: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  progress?: JobProgress;
  result?: JobResult;
  failedReason?: string;
}
