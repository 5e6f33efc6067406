import { z } from 'zod';
import { API_GROUP_VERSION, conditionSchema, objectMeta } from './meta.js';

/** Node ids double as checkpoint keys and log fields, so keep them short and plain. */
export const nodeId = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, { message: 'must start with a letter or "_" and hold only letters, digits, "_" and "-"' });

export const retryPolicy = z.object({
  /** Total tries including the first, as BullMQ counts attempts. */
  attempts: z.number().int().min(1).max(100).default(1),
  backoffMs: z.number().int().min(0).max(3_600_000).default(1000),
});
export type RetryPolicy = z.infer<typeof retryPolicy>;

export const nodeSpec = z.object({
  id: nodeId,
  type: z.string().min(1),
  name: z.string().max(253).optional(),
  params: z.record(z.string(), z.unknown()).default({}),
  timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
  retry: retryPolicy.optional(),
  /** `fail`, `continue`, or the id of a node to jump to. */
  onError: z.string().min(1).default('fail'),
});
export type NodeSpec = z.infer<typeof nodeSpec>;

export const edgeSpec = z.object({
  from: z.string().min(1),
  to: z.string().min(1),
  when: z.enum(['true', 'false']).optional(),
});
export type EdgeSpec = z.infer<typeof edgeSpec>;

export const graphSpec = z.object({
  nodes: z.array(nodeSpec).min(1),
  edges: z.array(edgeSpec).default([]),
});
export type GraphSpec = z.infer<typeof graphSpec>;

export const inputSpec = z.object({
  type: z.enum(['string', 'number', 'boolean', 'object', 'array']).default('string'),
  default: z.unknown().optional(),
  required: z.boolean().default(false),
  description: z.string().optional(),
});
export type InputSpec = z.infer<typeof inputSpec>;

export const workflowSpec = graphSpec.extend({
  inputs: z.record(z.string(), inputSpec).default({}),
});
export type WorkflowSpec = z.infer<typeof workflowSpec>;

/** The workflow file format is the Workflow custom resource, so one file serves `rpa run` and `kubectl apply`. */
export const workflowManifest = z.object({
  apiVersion: z.literal(API_GROUP_VERSION),
  kind: z.literal('Workflow'),
  metadata: objectMeta,
  spec: workflowSpec,
});
export type WorkflowManifest = z.infer<typeof workflowManifest>;

export const workflowStatus = z.object({
  valid: z.boolean().optional(),
  nodeCount: z.number().int().optional(),
  contentHash: z.string().optional(),
  problems: z.array(z.string()).optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z.array(conditionSchema).optional(),
});
