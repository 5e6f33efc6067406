// Benchmarks the robot against a bare BullMQ worker on the same Redis, in the same process:
//  (a) no-op jobs per second, queue pre-filled, both at the same concurrency;
//  (b) dispatch latency from enqueue to the run's start (job.started, emitted just before the
//      first node) on a warm, idle robot.
// Compiled, as production runs (`npm run bench`); tsx adds per-closure overhead to our side only.
// Usage: npm run bench -- [--jobs N] [--concurrency C] [--samples S] [--rounds R]
// or: npx tsx bench/run.ts [--jobs N] [--concurrency C] [--samples S] [--rounds R]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedis } from '../e2e/redis.js';
import { drainRate, EventLog, fillQueue, freshSettings, JobClient, NOOP, percentile, queueName, startBareWorker, startOurRobot, waitDrained } from './harness.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '8' },
    samples: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '4' },
  },
});
const JOBS = Number(values.jobs);
const CONCURRENCY = Number(values.concurrency);
const SAMPLES = Number(values.samples);
const ROUNDS = Number(values.rounds);
process.env.LOG_LEVEL ??= 'silent';

const redisHandle = await startRedis();
const url = redisHandle.url;
const redis = new Redis(url, { maxRetriesPerRequest: null });

async function throughputBare(): Promise<number> {
  const s = freshSettings();
  const queue = queueName('default', 'bare');
  const q = await fillQueue(redis, s, queue, JOBS);
  const w = startBareWorker(url, s, queue, CONCURRENCY);
  await waitDrained(q, JOBS);
  await w.close();
  const rate = await drainRate(q, JOBS);
  await q.close();
  return rate;
}

async function throughputOurs(): Promise<number> {
  const s = freshSettings();
  const queue = queueName('default', 'bench');
  const q = await fillQueue(redis, s, queue, JOBS);
  const agent = await startOurRobot(url, s, CONCURRENCY);
  await waitDrained(q, JOBS);
  await agent.stop(1_000);
  const rate = await drainRate(q, JOBS);
  await q.close();
  return rate;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function latencyBare(): Promise<number[]> {
  const s = freshSettings();
  const queue = queueName('default', 'bare-lat');
  const started = new Map<string, number>();
  const w = startBareWorker(url, s, queue, 1, (job) => started.set(String(job.id), Date.now()));
  await w.waitUntilReady();
  const client = new JobClient(redis, s);
  const out: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = Date.now();
    const { id } = await client.submit({ queue, payload: { workflow: { name: 'noop', spec: NOOP }, variables: {} } });
    while (!started.has(id)) await sleep(1);
    out.push((started.get(id) ?? t0) - t0);
    await sleep(5);
  }
  await w.close();
  await client.close();
  return out.sort((a, b) => a - b);
}

async function latencyOurs(): Promise<number[]> {
  const s = freshSettings();
  const agent = await startOurRobot(url, s, 1);
  const client = new JobClient(redis, s);
  const events = new EventLog(redis, s);
  const submitted = new Map<string, number>();
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = Date.now();
    const { id } = await client.submit({ queue: agent.queue, payload: { workflow: { name: 'noop', spec: NOOP }, variables: {} } });
    submitted.set(id, t0);
    await client.waitFor(id, { timeoutMs: 10_000 });
    await sleep(5);
  }
  const out: number[] = [];
  let after = '0';
  for (;;) {
    const batch = await events.read(after, { count: 1000 });
    if (batch.length === 0) break;
    after = batch.at(-1)?.id ?? after;
    for (const { event } of batch) {
      if (event.type === 'job.started') {
        const t0 = submitted.get(event.jobId);
        if (t0 !== undefined) out.push(Date.parse(event.at) - t0);
      }
    }
  }
  await agent.stop(1_000);
  await client.close();
  return out.sort((a, b) => a - b);
}

const row = (cells: Array<string | number>) => cells.map((c, i) => String(c).padEnd(i === 0 ? 52 : 14)).join('');
const fmt = (n: number, digits = 1) => n.toFixed(digits);

try {
  // A discarded warm-up of each, then rounds in alternating order (the later run of a pair
  // finds a warmer JIT and Redis), best of each: one round on two shared cores swings by a third.
  await throughputBare();
  await throughputOurs();
  const bareRuns: number[] = [];
  const ourRuns: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      bareRuns.push(await throughputBare());
      ourRuns.push(await throughputOurs());
    } else {
      ourRuns.push(await throughputOurs());
      bareRuns.push(await throughputBare());
    }
  }
  const bareTput = Math.max(...bareRuns);
  const ourTput = Math.max(...ourRuns);
  const bareLat = await latencyBare();
  const ourLat = await latencyOurs();
  console.log(`\nRedis ${redisHandle.source} at ${url}; ${JOBS} jobs x ${ROUNDS} rounds, concurrency ${CONCURRENCY}; ${SAMPLES} latency samples`);
  console.log(`rounds (jobs/s): rpa robot ${ourRuns.map((r) => r.toFixed(0)).join(', ')}; bare BullMQ ${bareRuns.map((r) => r.toFixed(0)).join(', ')}\n`);
  console.log(row(['benchmark', 'rpa robot', 'bare BullMQ', 'ratio']));
  console.log(row(['no-op jobs per second (queue pre-filled)', fmt(ourTput, 0), fmt(bareTput, 0), fmt(ourTput / bareTput, 2)]));
  for (const p of [50, 90, 99]) {
    const ours = percentile(ourLat, p);
    const bare = percentile(bareLat, p);
    console.log(row([`dispatch latency p${p}, enqueue -> run start (ms)`, fmt(ours), fmt(bare), bare > 0 ? fmt(ours / bare, 2) : '-']));
  }
  console.log(`\ntargets: throughput ratio >= 0.8 (${ourTput / bareTput >= 0.8 ? 'met' : 'NOT met'}), p99 < 50 ms (${percentile(ourLat, 99) < 50 ? 'met' : 'NOT met'})`);
} finally {
  redis.disconnect();
  await redisHandle.stop();
}
process.exit(0);
