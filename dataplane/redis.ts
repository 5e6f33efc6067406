import { Redis, type RedisOptions } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** `--redis` wins, then REDIS_URL, then a local Redis. */
export function resolveRedisUrl(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.REDIS_URL ?? DEFAULT_REDIS_URL;
}

/**
 * BullMQ workers block on Redis, so their connections must retry for ever
 * (maxRetriesPerRequest: null); auto-pipelining batches the many small writes a run makes.
 */
export function createRedis(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableAutoPipelining: true, lazyConnect: false, ...extra });
}

/** Waits until Redis answers PING, or fails with the URL in the message. */
export async function pingRedis(redis: Redis, timeoutMs = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis at ${redis.options.host}:${redis.options.port} did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}


/** Whether a Redis answers PING at `url` right now: one try, no retries, no error events left behind. */
export async function redisAnswers(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}
