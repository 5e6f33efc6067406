import { z } from 'zod';
import { jobSpec } from './job.js';
import { API_GROUP_VERSION, conditionSchema, objectMeta } from './meta.js';

/** Five fields (minute first) or six (second first), as the seeds' schedules accept. */
export const cronExpression = z
  .string()
  .min(9)
  .refine((s) => [5, 6].includes(s.trim().split(/\s+/).length), { message: 'must have 5 or 6 fields' });

export const scheduleSpec = z.object({
  cron: cronExpression,
  timeZone: z.string().min(1).default('UTC'),
  suspend: z.boolean().default(false),
  concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).default('Allow'),
  startingDeadlineSeconds: z.number().int().min(1).optional(),
  /** What a wall-clock time that a DST change skips or repeats does: run once, or skip. */
  dstPolicy: z.enum(['RunOnce', 'Skip']).default('RunOnce'),
  maxMissedRuns: z.number().int().min(0).max(100).default(1),
  successfulRunsHistoryLimit: z.number().int().min(0).max(100).default(3),
  failedRunsHistoryLimit: z.number().int().min(0).max(100).default(1),
  jobTemplate: z.object({ spec: jobSpec }),
});
export type ScheduleSpec = z.infer<typeof scheduleSpec>;

export const scheduleStatus = z.object({
  lastScheduleTime: z.string().optional(),
  lastSuccessfulTime: z.string().optional(),
  nextScheduleTime: z.string().optional(),
  active: z.array(z.object({ name: z.string(), uid: z.string().optional() })).optional(),
  conditions: z.array(conditionSchema).optional(),
  observedGeneration: z.number().int().optional(),
});

export const scheduleManifest = z.object({
  apiVersion: z.literal(API_GROUP_VERSION),
  kind: z.literal('Schedule'),
  metadata: objectMeta,
  spec: scheduleSpec,
});
