// Memory per idle connected remote robot: N machines join the API's /api/v1/robots/connect and
// sit idle (heartbeats only); the API process's heap + external memory is measured after a full
// GC before and after. Baseline in the same process: a bare `ws` server holding N idle sockets,
// i.e. what any WebSocket server pays per connection. Clients run in a child process.
// Usage: node --expose-gc --import tsx bench/remote-memory.ts [--machines N]   (npm run bench:remote)
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { buildApi } from '../api/app.js';
import { StaticKeyStore } from '../api/auth/keys.js';
import { remoteRobotsRoutes } from '../api/remote/routes.js';
import { newJoinToken } from '../core/tokens.js';
import { JobClient } from '../dataplane/jobs.js';
import { startRedis } from '../e2e/redis.js';
import { robotTokenSecret } from '../operator/controllers/robot-objects.js';
import { createRobot, startClusterWithCrds } from '../test/helpers/cluster.js';
import { freshSettings } from './harness.js';

const { values } = parseArgs({ options: { machines: { type: 'string', default: '2000' } } });
const N = Number(values.machines);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:remote)');

function used(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

/** Starts the clients, resolves once all are connected (and welcomed), returns a stop function. */
async function connect(url: string, token: string, bare: boolean): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'remote-clients.ts'), url, String(N), token, ...(bare ? ['--bare'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`clients exited with ${code}: ${out}`)));
  });
  return async () => {
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
  };
}

process.env.LOG_LEVEL ??= 'silent';
const redisHandle = await startRedis();
const tc = await startClusterWithCrds();
const token = newJoinToken();
const uid = await createRobot(tc.kc, 'fleet', { mode: 'remote' });
await tc.kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({ namespace: 'default', body: robotTokenSecret({ name: 'fleet', namespace: 'default', uid }, token, undefined) });
const settings = freshSettings();
const redis = new Redis(redisHandle.url, { maxRetriesPerRequest: null });

// Baseline: a bare ws server, same process.
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise((r) => wss.once('listening', r));
const bareBefore = used();
const stopBare = await connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, '', true);
const bareAfter = used();
await stopBare();
wss.close();

const api = await buildApi({ redis, settings, jobs: new JobClient(redis, settings), keys: new StaticKeyStore(), registry: new Registry(), kc: tc.kc }, { routes: [remoteRobotsRoutes], rateLimitPerMinute: 1_000_000 });
await api.listen({ host: '127.0.0.1', port: 0 });
const port = (api.server.address() as AddressInfo).port;
const before = used();
const redisClientsBefore = Number(/connected_clients:(\d+)/.exec(await redis.info('clients'))?.[1]);
const stopApi = await connect(`ws://127.0.0.1:${port}/api/v1/robots/connect`, token, false);
await new Promise((r) => setTimeout(r, 2_000));
const after = used();
const redisClientsAfter = Number(/connected_clients:(\d+)/.exec(await redis.info('clients'))?.[1]);
await stopApi();

const perApi = (after - before) / N;
const perBare = (bareAfter - bareBefore) / N;
const row = (c: Array<string | number>) => c.map((x, i) => String(x).padEnd(i === 0 ? 44 : 18)).join('');
console.log(`\n${N} idle connections; memory = heapUsed + external after a full GC, this process\n`);
console.log(row(['', 'API remote robots', 'bare ws server', 'ratio']));
console.log(row(['memory per idle connection (KB)', (perApi / 1024).toFixed(1), (perBare / 1024).toFixed(1), (perApi / perBare).toFixed(1) + 'x']));
console.log(row(['Redis connections opened', redisClientsAfter - redisClientsBefore, 0, '']));
console.log(`\ntarget < 50 KB per idle robot: ${perApi / 1024 < 50 ? 'met' : 'NOT met'}`);

await api.close();
redis.disconnect();
await tc.stop();
await redisHandle.stop();
process.exit(0);
