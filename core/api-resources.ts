/**
 * The Kubernetes-backed resources of the API (Workflows, Robots, Schedules under
 * /api/v1/namespaces/:namespace/...): path parameters, bodies and answers. Specs reuse the zod
 * schemas the CRDs are generated from, so the API and `kubectl` agree on every field.
 */
import { z } from 'zod';
import { namespaceName, resourceName } from './meta.js';
import { robotPresence } from './presence.js';
import { robotSpec, robotStatus } from './robot.js';
import { scheduleSpec, scheduleStatus } from './schedule.js';
import { workflowSpec, workflowStatus } from './workflow.js';

export const RESOURCE_DEFAULTS = {
  /** Fire times a Schedule answer lists unless `next` says otherwise. */
  nextFireTimes: 5,
  maxNextFireTimes: 50,
} as const;

/** Path of one namespaced object. */
export const objectParams = z.object({ namespace: namespaceName, name: resourceName });

const labelMap = z.record(z.string(), z.string());

/** The parts of Kubernetes object metadata a client needs, flattened. */
export const resourceMetadata = z
  .object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    /** Changes on every write; Kubernetes' optimistic concurrency token. */
    resourceVersion: z.string(),
    /** Changes when the spec changes; compare with status.observedGeneration. */
    generation: z.number().int().optional(),
    createdAt: z.string(),
    labels: labelMap.optional(),
    annotations: labelMap.optional(),
  })
  .meta({ id: 'ResourceMetadata' });
export type ResourceMetadata = z.infer<typeof resourceMetadata>;

/** Labels and annotations a client may set on create or update; validated by the API server. */
const writableMetadata = z.object({ labels: labelMap.optional(), annotations: labelMap.optional() });

// ---- Workflows

export const workflowResource = z
  .object({ metadata: resourceMetadata, spec: workflowSpec, status: workflowStatus.optional() })
  .meta({ id: 'Workflow' });
export type WorkflowResource = z.infer<typeof workflowResource>;
export const workflowList = z.object({ items: z.array(workflowResource) }).meta({ id: 'WorkflowList' });

/**
 * The spec is taken as any object here and checked by validateWorkflow, whose problems name node
 * ids; the schema validator would only name array indexes.
 */
export const workflowBody = z
  .object({
    metadata: writableMetadata.optional(),
    spec: z.record(z.string(), z.unknown()).describe('a WorkflowSpec: nodes, edges and inputs'),
  })
  .meta({ id: 'WorkflowBody' });
export type WorkflowBody = z.infer<typeof workflowBody>;

export const workflowProblem = z
  .object({
    code: z.string().describe('stable problem code, e.g. unknown_type, dangling_edge, cycle'),
    nodeId: z.string().optional(),
    field: z.string().describe('dotted path inside the node (params.url) or the spec (edges[2].to)'),
    message: z.string(),
  })
  .meta({ id: 'WorkflowProblem' });

export const workflowValidation = z
  .object({ valid: z.boolean(), problems: z.array(workflowProblem) })
  .meta({ id: 'WorkflowValidation' });

// ---- Robots

export const robotInstance = robotPresence
  .pick({ id: true, mode: true, host: true, version: true, capabilities: true, concurrency: true, runningJobs: true, draining: true, cpu: true, memory: true, startedAt: true, lastHeartbeat: true })
  .meta({ id: 'RobotInstance' });

/** Live state from the data plane's presence records; the CR's status lags it by a reconcile. */
export const robotLive = z.object({
  /** Processes with a fresh heartbeat: pods, or remote machines. */
  connected: z.number().int(),
  /** Job slots of the connected processes, and how many of them run a job now. */
  slots: z.number().int(),
  busySlots: z.number().int(),
  /** Newest heartbeat of any instance; absent when none is connected. */
  lastHeartbeat: z.string().optional(),
  instances: z.array(robotInstance),
});
export type RobotLive = z.infer<typeof robotLive>;

export const robotResource = z
  .object({ metadata: resourceMetadata, spec: robotSpec, status: robotStatus.optional(), live: robotLive })
  .meta({ id: 'Robot' });
export type RobotResource = z.infer<typeof robotResource>;
export const robotList = z.object({ items: z.array(robotResource) }).meta({ id: 'RobotList' });

export const tokenRotation = z
  .object({
    name: z.string(),
    namespace: z.string(),
    /** The annotation's new value; the operator writes a new token to the Robot's token Secret. */
    rotation: z.string(),
    secret: z.string().describe('the Secret the new join token is written to'),
  })
  .meta({ id: 'TokenRotation' });

// ---- Schedules

export const scheduleQuery = z.object({
  next: z.coerce
    .number()
    .int()
    .min(0)
    .max(RESOURCE_DEFAULTS.maxNextFireTimes)
    .default(RESOURCE_DEFAULTS.nextFireTimes)
    .describe('how many upcoming fire times to list'),
  after: z.iso.datetime({ offset: true }).optional().describe('list fire times after this instant instead of now'),
});

export const scheduleResource = z
  .object({
    metadata: resourceMetadata,
    spec: scheduleSpec,
    status: scheduleStatus.optional(),
    /** Upcoming fire instants (UTC, RFC 3339) in the spec's time zone and DST policy; empty while suspended or invalid. */
    nextFireTimes: z.array(z.string()),
    /** Why the stored spec cannot be scheduled, e.g. an object written with kubectl. */
    problems: z.array(z.string()).optional(),
  })
  .meta({ id: 'Schedule' });
export type ScheduleResource = z.infer<typeof scheduleResource>;
export const scheduleList = z.object({ items: z.array(scheduleResource) }).meta({ id: 'ScheduleList' });

/** Checked by scheduleProblems, so cron and time zone errors name spec.cron and spec.timeZone. */
export const scheduleCreateBody = z
  .object({
    name: resourceName,
    metadata: writableMetadata.optional(),
    spec: z.record(z.string(), z.unknown()).describe('a ScheduleSpec: cron, timeZone, jobTemplate, ...'),
  })
  .meta({ id: 'ScheduleCreate' });
export type ScheduleCreateBody = z.infer<typeof scheduleCreateBody>;
