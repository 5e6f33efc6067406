import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { redisAnswers } from '../dataplane/redis.js';

export interface RedisHandle {
  url: string;
  /** Where it came from, for the test log: env, container or a local process. */
  source: 'env' | 'testcontainers' | 'local';
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await redisAnswers(url))) {
    if (Date.now() > deadline) throw new Error(`Redis at ${url} did not answer within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * The Redis for tests, in this order: REDIS_URL (one you run), else a container through
 * @testcontainers/redis when a Docker engine answers (not a dependency of this project:
 * install it to use this branch), else a `redis-server` from PATH on a free loopback port,
 * with persistence off because test data is thrown away.
 */
export async function startRedis(env: NodeJS.ProcessEnv = process.env): Promise<RedisHandle> {
  if (env.REDIS_URL) {
    await waitForPing(env.REDIS_URL, 5_000);
    return { url: env.REDIS_URL, source: 'env', stop: async () => undefined };
  }
  if (env.RPA_TEST_DOCKER === '1' && spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0) {
    const container = await startRedisContainer();
    if (container) return container;
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  const url = `redis://127.0.0.1:${port}`;
  await waitForPing(url, 10_000);
  return {
    url,
    source: 'local',
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Optional branch for machines with Docker; resolves undefined when the package is absent. */
async function startRedisContainer(): Promise<RedisHandle | undefined> {
  const moduleName = '@testcontainers/redis';
  try {
    const mod = (await import(moduleName)) as {
      RedisContainer: new (image: string) => { start(): Promise<{ getConnectionUrl(): string; stop(): Promise<unknown> }> };
    };
    const started = await new mod.RedisContainer('redis:7-alpine').start();
    return { url: started.getConnectionUrl(), source: 'testcontainers', stop: async () => void (await started.stop()) };
  } catch {
    return undefined;
  }
}
