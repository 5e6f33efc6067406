import { hostname } from 'node:os';
import { z } from 'zod';
import { namespaceName } from '../core/meta.js';
import { VERSION } from '../core/version.js';
import { dataPlaneSettings } from '../core/queue.js';
import { dataPlaneFromEnv } from '../dataplane/settings.js';
import { resolveRedisUrl } from '../dataplane/redis.js';
import { configError } from '../core/config-error.js';

/** Every setting of `rpa operator`, each with its flag, variable and default in this one place. */
export const operatorConfig = z.object({
  /** kubernetes: robot Deployments; process: robot processes on this machine, for a cluster without kubelets. */
  runtime: z.enum(['kubernetes', 'process']).default('kubernetes'),
  /** Watch one namespace, or all when unset. */
  namespace: namespaceName.optional(),
  redisUrl: z.string().url(),
  /** Robot pods read Redis's URL from this Secret key, so it never sits in a Deployment spec. */
  redisSecret: z.object({ name: z.string().min(1), key: z.string().min(1) }).optional(),
  robotImage: z.string().min(1).default(`rpa-robot:${VERSION}`),
  identity: z.string().min(1),
  leaderElection: z.object({
    enabled: z.boolean().default(true),
    namespace: namespaceName.default('default'),
    leaseName: z.string().min(1).default('rpa-operator'),
    leaseDurationSeconds: z.number().int().min(2).default(10),
    renewDeadlineSeconds: z.number().int().min(1).default(7),
    retryPeriodSeconds: z.number().int().min(1).default(1),
  }),
  workers: z.number().int().min(1).max(64).default(4),
  resyncSeconds: z.number().int().min(10).default(300),
  metricsPort: z.number().int().min(0).max(65_535).default(8080),
  healthPort: z.number().int().min(0).max(65_535).default(8081),
  bindHost: z.string().default('0.0.0.0'),
  dataPlane: dataPlaneSettings,
})
  .refine((c) => c.leaderElection.renewDeadlineSeconds < c.leaderElection.leaseDurationSeconds, {
    message: 'renew deadline must be shorter than the lease duration',
    path: ['leaderElection', 'renewDeadlineSeconds'],
  });
export type OperatorConfig = z.infer<typeof operatorConfig>;

const NAMES: Record<string, string> = {
  runtime: '--runtime / RPA_OPERATOR_RUNTIME',
  namespace: '--namespace / RPA_WATCH_NAMESPACE',
  redisUrl: '--redis / REDIS_URL',
  robotImage: 'RPA_ROBOT_IMAGE',
  'leaderElection.namespace': 'RPA_LEADER_ELECTION_NAMESPACE / POD_NAMESPACE',
  'leaderElection.leaseName': 'RPA_LEASE_NAME',
  'leaderElection.leaseDurationSeconds': 'RPA_LEASE_DURATION_SECONDS',
  'leaderElection.renewDeadlineSeconds': 'RPA_RENEW_DEADLINE_SECONDS',
  'leaderElection.retryPeriodSeconds': 'RPA_RETRY_PERIOD_SECONDS',
  resyncSeconds: 'RPA_RESYNC_SECONDS',
  workers: 'RPA_OPERATOR_WORKERS',
  metricsPort: 'RPA_OPERATOR_METRICS_PORT',
  healthPort: 'RPA_OPERATOR_HEALTH_PORT',
  bindHost: 'RPA_OPERATOR_BIND_HOST',
};

const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

/** Flags over environment over defaults; a bad value stops start-up with its flag and variable named. */
export function loadOperatorConfig(flags: { runtime?: string; namespace?: string; redis?: string }, env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const raw = {
    runtime: flags.runtime ?? env.RPA_OPERATOR_RUNTIME,
    namespace: flags.namespace ?? (env.RPA_WATCH_NAMESPACE || undefined),
    redisUrl: resolveRedisUrl(flags.redis, env),
    redisSecret: env.RPA_REDIS_SECRET ? { name: env.RPA_REDIS_SECRET, key: env.RPA_REDIS_SECRET_KEY ?? 'url' } : undefined,
    robotImage: env.RPA_ROBOT_IMAGE,
    identity: env.POD_NAME ?? `${hostname()}-${process.pid}`,
    leaderElection: {
      enabled: env.RPA_LEADER_ELECTION !== 'false',
      namespace: env.RPA_LEADER_ELECTION_NAMESPACE ?? env.POD_NAMESPACE,
      leaseName: env.RPA_LEASE_NAME || undefined,
      leaseDurationSeconds: num(env.RPA_LEASE_DURATION_SECONDS),
      renewDeadlineSeconds: num(env.RPA_RENEW_DEADLINE_SECONDS),
      retryPeriodSeconds: num(env.RPA_RETRY_PERIOD_SECONDS),
    },
    workers: num(env.RPA_OPERATOR_WORKERS),
    resyncSeconds: num(env.RPA_RESYNC_SECONDS),
    metricsPort: num(env.RPA_OPERATOR_METRICS_PORT),
    healthPort: num(env.RPA_OPERATOR_HEALTH_PORT),
    bindHost: env.RPA_OPERATOR_BIND_HOST || undefined,
    dataPlane: dataPlaneFromEnv(env),
  };
  const parsed = operatorConfig.safeParse(raw);
  if (!parsed.success) {
    throw configError('operator configuration', parsed.error.issues, NAMES);
  }
  return parsed.data;
}
