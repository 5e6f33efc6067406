import { z } from 'zod';
import { API_GROUP_VERSION, conditionSchema, objectMeta } from './meta.js';

const quantity = z.union([z.string().regex(/^[0-9.]+[a-zA-Z]*$/), z.number()]);

export const robotSpec = z
  .object({
    mode: z.enum(['pods', 'remote']).default('pods'),
    capabilities: z.array(z.string().min(1).max(63)).default([]),
    /** Jobs one robot process runs at once. */
    jobsPerPod: z.number().int().min(1).max(64).default(1),
    minReplicas: z.number().int().min(0).max(1000).default(0),
    maxReplicas: z.number().int().min(0).max(1000).default(10),
    /** Replica count the scale subresource writes; the autoscaler owns it unless set by hand. */
    replicas: z.number().int().min(0).max(1000).optional(),
    scaleDownStabilizationSeconds: z.number().int().min(0).max(3600).default(60),
    warmupSeconds: z.number().int().min(0).max(3600).default(0),
    image: z.string().min(1).optional(),
    resources: z
      .object({ requests: z.record(z.string(), quantity).optional(), limits: z.record(z.string(), quantity).optional() })
      .optional(),
    env: z.array(z.object({ name: z.string().min(1), value: z.string() })).default([]),
  })
  .refine((s) => s.minReplicas <= s.maxReplicas, { message: 'minReplicas must not exceed maxReplicas', path: ['minReplicas'] });
export type RobotSpec = z.infer<typeof robotSpec>;

export const robotStatus = z.object({
  replicas: z.number().int().optional(),
  desiredReplicas: z.number().int().optional(),
  readyReplicas: z.number().int().optional(),
  busySlots: z.number().int().optional(),
  queue: z
    .object({ waiting: z.number().int(), active: z.number().int(), delayed: z.number().int(), failed: z.number().int() })
    .optional(),
  queueDepth: z.number().int().optional(),
  connectedMachines: z.number().int().optional(),
  /** Waiting jobs that would miss their deadline at the current capacity. */
  jobsAtRisk: z.number().int().optional(),
  /** Why the desired replica count is what it is (QueueDepth, Warmup, Deadline, ...). */
  scaleReason: z.string().optional(),
  selector: z.string().optional(),
  conditions: z.array(conditionSchema).optional(),
  observedGeneration: z.number().int().optional(),
});

export type RobotStatus = z.infer<typeof robotStatus>;

export const robotManifest = z.object({
  apiVersion: z.literal(API_GROUP_VERSION),
  kind: z.literal('Robot'),
  metadata: objectMeta,
  spec: robotSpec,
});
