import { z } from 'zod';
import { jobState } from './job.js';

const base = {
  jobId: z.string(),
  queue: z.string(),
  robotId: z.string(),
  at: z.string(),
};

/** Progress events a robot publishes while it runs a job; the API streams them to clients. */
export const progressEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job.started'), ...base, attempt: z.number().int(), resumeAfter: z.string().optional() }),
  z.object({ type: z.literal('node.started'), ...base, nodeId: z.string(), nodeType: z.string(), attempt: z.number().int() }),
  z.object({ type: z.literal('node.finished'), ...base, nodeId: z.string(), nodeType: z.string(), durationMs: z.number() }),
  z.object({
    type: z.literal('node.failed'),
    ...base,
    nodeId: z.string(),
    nodeType: z.string(),
    durationMs: z.number(),
    error: z.string(),
    willRetry: z.boolean(),
  }),
  z.object({ type: z.literal('job.finished'), ...base, state: jobState, durationMs: z.number(), error: z.string().optional() }),
]);
export type ProgressEvent = z.infer<typeof progressEvent>;
export type ProgressEventType = ProgressEvent['type'];
