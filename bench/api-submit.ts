// Submit throughput and latency through the API against a bare Fastify route doing the same Redis
// write (JobClient.submit of the same inline workflow), both in this process on the same Redis,
// driven by autocannon at a fixed concurrency. Then the API again at half its measured peak rate,
// where latency matters more than throughput.
// Usage: npm run bench:api -- [--seconds N] [--connections N]
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { buildApi } from '../api/app.js';
import { StaticKeyStore } from '../api/auth/keys.js';
import { jobsRoutes } from '../api/routes/jobs.js';
import { contentHash } from '../core/hash.js';
import { queueName } from '../core/queue.js';
import { JobClient } from '../dataplane/jobs.js';
import { startRedis } from '../e2e/redis.js';
import { freshSettings, NOOP } from './harness.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '16' } } });
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const TOKEN = 'rpak_bench_operator_key';

const redisHandle = await startRedis();
const redis = new Redis(redisHandle.url, { maxRetriesPerRequest: null });
const settings = freshSettings();
const jobs = new JobClient(redis, settings);
const body = JSON.stringify({ workflowSpec: NOOP, robot: { name: 'bench' }, variables: { n: 1 } });

const api = await buildApi(
  { redis, settings, jobs, keys: new StaticKeyStore([{ token: TOKEN, name: 'bench', role: 'operator', namespaces: ['*'] }]), registry: new Registry() },
  { routes: [jobsRoutes], rateLimitPerMinute: 100_000_000 },
);
const apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });

// The baseline: the same write behind the thinnest route Fastify allows.
const bare = Fastify();
const hash = contentHash(NOOP);
bare.post('/submit', async (req, reply) => {
  const b = req.body as { variables: Record<string, unknown> };
  const r = await jobs.submit({ queue: queueName('default', 'bench'), payload: { workflow: { name: 'inline', spec: NOOP, hash }, variables: b.variables, source: { kind: 'api' } } });
  return reply.code(201).send({ id: r.id });
});
const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

async function run(url: string, headers: Record<string, string>, overallRate?: number, connections = CONNECTIONS) {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections,
    duration: SECONDS,
    ...(overallRate ? { overallRate } : {}),
  });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

// Warm both (JIT, connections), then measure alternately.
await run(`${apiUrl}/api/v1/namespaces/default/jobs`, { authorization: `Bearer ${TOKEN}` });
await run(`${bareUrl}/submit`, {});
const ours = await run(`${apiUrl}/api/v1/namespaces/default/jobs`, { authorization: `Bearer ${TOKEN}` });
const base = await run(`${bareUrl}/submit`, {});
// autocannon paces each connection on its own timer, so many paced connections fire in bursts;
// four connections keep the offered load smooth enough to read latency rather than burst queueing.
const half = await run(`${apiUrl}/api/v1/namespaces/default/jobs`, { authorization: `Bearer ${TOKEN}` }, Math.round(ours.rps / 2), 4);

const row = (c: Array<string | number>) => c.map((x, i) => String(x).padEnd(i === 0 ? 34 : 16)).join('');
console.log(`\nPOST a job (inline no-op workflow), ${CONNECTIONS} connections, ${SECONDS} s each; Redis and both servers on this machine\n`);
console.log(row(['', 'API', 'bare Fastify', 'ratio API/bare']));
console.log(row(['requests/s', ours.rps.toFixed(0), base.rps.toFixed(0), (ours.rps / base.rps).toFixed(2)]));
console.log(row(['p50 latency (ms)', ours.p50, base.p50, '']));
console.log(row(['p99 latency (ms)', ours.p99, base.p99, '']));
console.log(row([`API at half its peak (${Math.round(ours.rps / 2)}/s) p99`, `${half.p99} ms`, '', '']));
console.log(`\ntargets: ratio >= 0.7: ${ours.rps / base.rps >= 0.7 ? 'met' : 'NOT met'}; p99 < 10 ms at half of peak: ${half.p99 < 10 ? 'met' : 'NOT met'}`);

await api.close();
await bare.close();
await jobs.close();
redis.disconnect();
await redisHandle.stop();
process.exit(0);
