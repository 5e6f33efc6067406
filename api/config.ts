import { z } from 'zod';
import { namespaceName } from '../core/meta.js';
import { dataPlaneSettings } from '../core/queue.js';
import { resolveRedisUrl } from '../dataplane/redis.js';
import { dataPlaneFromEnv } from '../dataplane/settings.js';
import { API_DEFAULTS } from './app.js';
import { API_KEYS_SECRET } from './auth/keys.js';
import { configError } from '../core/config-error.js';

/** Every setting of `rpa api`, with its flag, variable and default in this one place. */
export const apiConfig = z.object({
  port: z.number().int().min(0).max(65_535).default(8080),
  host: z.string().min(1).default('0.0.0.0'),
  redisUrl: z.string().url(),
  /** Where the API keys Secret lives: the API's own namespace. */
  namespace: namespaceName.default('default'),
  keysSecret: z.string().min(1).default(API_KEYS_SECRET),
  /** A first admin key for a fresh install, before any Secret exists. */
  adminToken: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  bodyLimit: z.number().int().min(1024).default(API_DEFAULTS.bodyLimit),
  rateLimitPerMinute: z.number().int().min(1).default(API_DEFAULTS.rateLimitPerMinute),
  dataPlane: dataPlaneSettings,
});
export type ApiConfig = z.infer<typeof apiConfig>;

const NAMES: Record<string, string> = {
  port: '--port / RPA_API_PORT',
  host: '--host / RPA_API_HOST',
  redisUrl: '--redis / REDIS_URL',
  namespace: 'RPA_API_NAMESPACE / POD_NAMESPACE',
  keysSecret: 'RPA_API_KEYS_SECRET',
  adminToken: 'RPA_ADMIN_TOKEN',
  bodyLimit: 'RPA_API_BODY_LIMIT',
  rateLimitPerMinute: 'RPA_API_RATE_LIMIT',
};

const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

/** Flags over environment over defaults; a bad value stops start-up with its flag and variable named. */
export function loadApiConfig(flags: { port?: string; host?: string; redis?: string }, env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const parsed = apiConfig.safeParse({
    port: num(flags.port ?? env.RPA_API_PORT),
    host: flags.host ?? (env.RPA_API_HOST || undefined),
    redisUrl: resolveRedisUrl(flags.redis, env),
    namespace: env.RPA_API_NAMESPACE || env.POD_NAMESPACE || undefined,
    keysSecret: env.RPA_API_KEYS_SECRET || undefined,
    adminToken: env.RPA_ADMIN_TOKEN || undefined,
    bodyLimit: num(env.RPA_API_BODY_LIMIT),
    rateLimitPerMinute: num(env.RPA_API_RATE_LIMIT),
    dataPlane: dataPlaneFromEnv(env),
  });
  if (!parsed.success) {
    throw configError('API configuration', parsed.error.issues, NAMES);
  }
  return parsed.data;
}
