// Scale reaction time: from a burst of jobs landing in a Robot's queue to the Robot's Deployment
// patched with the new replica count on a real kube-apiserver, over repeated bursts. Beside it,
// a 30 s polling scaler (KEDA's default pollingInterval) computed the same way: each burst waits
// for the next poll (a uniformly random phase, seeded) and then pays the same measured patch time.
// Runs from source (tsx): it needs e2e/cluster and crds/ beside it, and measures I/O, not JS speed.
// Usage: npm run bench:scale -- [--bursts N] [--poll SECONDS]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { robotSpec } from '../core/robot.js';
import { queueName } from '../core/queue.js';
import { startRedis } from '../e2e/redis.js';
import { RobotScaler, type ScaleEvent } from '../operator/controllers/robot-scaler.js';
import { KubernetesRobotRuntime } from '../operator/robot-runtime/kubernetes.js';
import { createRobot, startClusterWithCrds } from '../test/helpers/cluster.js';
import { fillQueue, freshSettings, percentile } from './harness.js';

const { values } = parseArgs({ options: { bursts: { type: 'string', default: '30' }, poll: { type: 'string', default: '30' } } });
const BURSTS = Number(values.bursts);
const POLL_MS = Number(values.poll) * 1000;
process.env.LOG_LEVEL ??= 'silent';

const redisHandle = await startRedis();
const tc = await startClusterWithCrds();
const redis = new Redis(redisHandle.url, { maxRetriesPerRequest: null });
const blocking = new Redis(redisHandle.url, { maxRetriesPerRequest: null });
const settings = freshSettings();
const robotUid = await createRobot(tc.kc, 'bench-bot', { jobsPerPod: 5, maxReplicas: 50 });

const scaled: ScaleEvent[] = [];
let waiter: ((e: ScaleEvent) => void) | undefined;
const scaler = new RobotScaler(redis, blocking, settings, new KubernetesRobotRuntime(tc.kc, { defaultImage: 'rpa-robot:bench' }), {
  onScaled: (e) => {
    scaled.push(e);
    waiter?.(e);
  },
});
const robot = { name: 'bench-bot', namespace: 'default', uid: robotUid, spec: robotSpec.parse({ jobsPerPod: 5, maxReplicas: 50, scaleDownStabilizationSeconds: 0 }) };
const until = (pred: (e: ScaleEvent) => boolean) =>
  new Promise<ScaleEvent>((resolve) => {
    waiter = (e) => {
      if (pred(e)) resolve(e);
    };
  });
scaler.start();
let first = until((e) => e.decision.desired === 0);
scaler.track(robot);
await first;

const queue = queueName('default', 'bench-bot');
const reaction: number[] = [];
const patchOnly: number[] = [];
for (let i = 0; i < BURSTS; i++) {
  const jobs = 20 + ((i * 7) % 30);
  const want = Math.ceil(jobs / 5);
  const reached = until((e) => e.decision.desired === want);
  const t0 = Date.now();
  const q = await fillQueue(redis, settings, queue, jobs);
  const e = await reached;
  reaction.push(e.appliedAt - t0);
  // Drain for the next burst and wait for the scaler to follow it down.
  const down = until((ev) => ev.decision.desired === 0);
  const pd = Date.now();
  await q.obliterate({ force: true });
  const d = await down;
  patchOnly.push(d.appliedAt - pd);
  await q.close();
  first = Promise.resolve(d);
}

// Seeded so runs compare: a linear congruential generator is enough for poll phases.
let seed = 42;
const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const polled = reaction.map((r) => rand() * POLL_MS + r).sort((a, b) => a - b);
const ours = [...reaction].sort((a, b) => a - b);

const row = (c: Array<string | number>) => c.map((x, i) => String(x).padEnd(i === 0 ? 46 : 16)).join('');
console.log(`\n${BURSTS} bursts of 20-49 jobs; local kube-apiserver v1.36 + Redis on this machine\n`);
console.log(row(['scale reaction, burst -> Deployment patched', 'event-driven', `${POLL_MS / 1000} s polling`, 'ratio']));
for (const p of [50, 90, 99]) {
  const a = percentile(ours, p);
  const b = percentile(polled, p);
  console.log(row([`p${p} (ms)`, a.toFixed(0), b.toFixed(0), (b / Math.max(1, a)).toFixed(0) + 'x']));
}
console.log(row(['max (ms)', Math.max(...ours).toFixed(0), Math.max(...polled).toFixed(0), '']));
console.log(`\ntarget p99 < 1000 ms: ${percentile(ours, 99) < 1000 ? 'met' : 'NOT met'}`);

await scaler.stop();
redis.disconnect();
blocking.disconnect();
await tc.stop();
await redisHandle.stop();
process.exit(0);
