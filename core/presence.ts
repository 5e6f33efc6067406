import { z } from 'zod';

/** What a live robot says about itself every heartbeat; the key expires when it stops saying it. */
export const robotPresence = z.object({
  id: z.string(),
  robot: z.string(),
  namespace: z.string(),
  mode: z.enum(['pod', 'remote', 'local']),
  host: z.string(),
  pid: z.number().int(),
  version: z.string(),
  capabilities: z.array(z.string()),
  concurrency: z.number().int(),
  runningJobs: z.array(z.string()),
  draining: z.boolean(),
  cpu: z.object({ percent: z.number(), cores: z.number().int() }),
  memory: z.object({ rssBytes: z.number(), heapUsedBytes: z.number(), totalBytes: z.number(), freeBytes: z.number() }),
  startedAt: z.string(),
  lastHeartbeat: z.string(),
});
export type RobotPresence = z.infer<typeof robotPresence>;
