import { hostname } from 'node:os';
import { z } from 'zod';
import { namespaceName, resourceName } from '../core/meta.js';
import { DEFAULT_DATA_PLANE, dataPlaneSettings } from '../core/queue.js';
import { resolveRedisUrl } from '../dataplane/redis.js';
import { dataPlaneFromEnv } from '../dataplane/settings.js';
import { configError } from '../core/config-error.js';

const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

export const robotConfig = z.object({
  name: resourceName,
  namespace: namespaceName.default('default'),
  /** Unique per process; pods use their pod name so presence and metrics line up with kubectl. */
  id: z.string().min(1),
  mode: z.enum(['pod', 'remote', 'local']).default('local'),
  redisUrl: z.string().url(),
  concurrency: z.coerce.number().int().min(1).max(64).default(1),
  capabilities: z.union([z.array(z.string()), csv]).default([]),
  /** 0 turns the metrics endpoint off. */
  metricsPort: z.coerce.number().int().min(0).max(65_535).default(0),
  metricsHost: z.string().default('127.0.0.1'),
  /** How long SIGTERM waits for running jobs before checkpointing them back to the queue. */
  shutdownGraceMs: z.coerce.number().int().min(0).default(30_000),
  /** Job timeout when the job sets none. */
  defaultJobTimeoutSeconds: z.coerce.number().int().min(1).default(3_600),
  /** Minimum spacing of progress writes per job; node events are never throttled. */
  progressIntervalMs: z.coerce.number().int().min(0).default(250),
  chromiumPath: z.string().optional(),
  artifactsDir: z.string().optional(),
  dataPlane: dataPlaneSettings.default(DEFAULT_DATA_PLANE),
});
export type RobotConfig = z.infer<typeof robotConfig>;
export type RobotConfigInput = z.input<typeof robotConfig>;

/** Flags win over environment variables; a bad value stops start-up with the variable named. */
export function loadRobotConfig(flags: Partial<Record<string, unknown>>, env: NodeJS.ProcessEnv = process.env): RobotConfig {
  const pick = (flag: string, envName: string) => flags[flag] ?? env[envName];
  const name = pick('name', 'RPA_ROBOT_NAME');
  const raw = {
    name,
    namespace: pick('namespace', 'RPA_NAMESPACE'),
    id: pick('id', 'RPA_ROBOT_ID') ?? env.POD_NAME ?? `${String(name ?? 'robot')}-${hostname()}-${process.pid}`,
    mode: pick('mode', 'RPA_ROBOT_MODE') ?? (env.POD_NAME ? 'pod' : undefined),
    redisUrl: resolveRedisUrl(flags.redis as string | undefined, env),
    concurrency: pick('concurrency', 'RPA_CONCURRENCY'),
    capabilities: pick('capabilities', 'RPA_CAPABILITIES'),
    metricsPort: pick('metricsPort', 'RPA_METRICS_PORT'),
    metricsHost: pick('metricsHost', 'RPA_METRICS_HOST'),
    shutdownGraceMs: pick('shutdownGraceMs', 'RPA_SHUTDOWN_GRACE_MS'),
    defaultJobTimeoutSeconds: env.RPA_JOB_TIMEOUT_SECONDS,
    chromiumPath: env.CHROMIUM_PATH,
    artifactsDir: env.RPA_ARTIFACTS_DIR,
    dataPlane: dataPlaneFromEnv(env),
  };
  const parsed = robotConfig.safeParse(raw);
  if (!parsed.success) {
    const envNames: Record<string, string> = {
      name: '--name / RPA_ROBOT_NAME',
      namespace: '--namespace / RPA_NAMESPACE',
      concurrency: '--concurrency / RPA_CONCURRENCY',
      redisUrl: '--redis / REDIS_URL',
      metricsPort: '--metrics-port / RPA_METRICS_PORT',
    };
    throw configError('robot configuration', parsed.error.issues, envNames);
  }
  return parsed.data;
}
