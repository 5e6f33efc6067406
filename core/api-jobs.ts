/** Bodies and answers of the jobs routes; OpenAPI names come from `.meta({ id })`. */
import { z } from 'zod';
import { namespaceParams } from './api.js';
import { jobPriority, jobResult, JOB_STATES, robotSelector } from './job.js';
import { resourceName } from './meta.js';
import { jobId } from './queue.js';

export const submitJobBody = z
  .object({
    /** A Workflow custom resource of the namespace, snapshotted at submit time. */
    workflow: resourceName.optional(),
    /** Or an inline graph (a Workflow's spec), validated like `rpa validate`. */
    workflowSpec: z.record(z.string(), z.unknown()).optional(),
    variables: z.record(z.string(), z.unknown()).default({}),
    priority: jobPriority.default(50),
    robot: robotSelector,
    retries: z.number().int().min(0).max(20).default(0),
    timeoutSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
    deadline: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((b) => (b.workflow === undefined) !== (b.workflowSpec === undefined), { message: 'give exactly one of workflow (a name) or workflowSpec (a graph)', path: ['workflow'] })
  .meta({ id: 'SubmitJob' });
export type SubmitJobBody = z.infer<typeof submitJobBody>;

export const idempotencyHeaders = z.object({
  /** Retrying a POST with the same key returns the job of the first one instead of running twice. */
  'idempotency-key': z.string().min(1).max(200).optional(),
});

export const jobIdParams = namespaceParams.extend({ id: jobId });

export const nodeTimelineEntry = z
  .object({
    nodeId: z.string(),
    type: z.string().optional(),
    status: z.enum(['running', 'succeeded', 'failed', 'skipped']),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    durationMs: z.number().optional(),
    attempts: z.number().int().optional(),
    error: z.string().optional(),
  })
  .meta({ id: 'NodeTimelineEntry' });

export const jobSummary = z
  .object({
    id: z.string(),
    namespace: z.string(),
    robot: z.string(),
    queue: z.string(),
    workflow: z.string(),
    state: z.enum(JOB_STATES),
    priority: z.number().int(),
    attemptsMade: z.number().int(),
    attemptsAllowed: z.number().int(),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    failedReason: z.string().optional(),
  })
  .meta({ id: 'JobSummary' });
export type JobSummary = z.infer<typeof jobSummary>;

export const jobDetail = jobSummary
  .extend({
    progress: z.object({ currentNode: z.string().optional(), finishedNodes: z.number().int(), totalNodes: z.number().int() }).optional(),
    result: jobResult.optional(),
    timeline: z.array(nodeTimelineEntry),
  })
  .meta({ id: 'Job' });
export type JobDetail = z.infer<typeof jobDetail>;

export const listJobsQuery = z.object({
  state: z.enum(JOB_STATES).optional(),
  workflow: z.string().min(1).optional(),
  robot: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** Opaque: the `nextCursor` of the previous page. */
  cursor: z.string().max(300).optional(),
});

export const jobList = z.object({ items: z.array(jobSummary), nextCursor: z.string().optional() }).meta({ id: 'JobList' });
export const jobLogs = z.object({ lines: z.array(z.string()) }).meta({ id: 'JobLogs' });
export const cancelAnswer = z.object({ outcome: z.enum(['cancelled', 'signalled', 'finished']) }).meta({ id: 'CancelOutcome' });
