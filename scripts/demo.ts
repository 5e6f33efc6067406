// Drives the local demo behind `make run`; see scripts/run.sh.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { contentHash } from '../core/hash.js';
import { queueName } from '../core/queue.js';
import { robotSpec } from '../core/robot.js';
import { JobClient } from '../dataplane/jobs.js';
import { ProcessRobotRuntime } from '../operator/robot-runtime/process.js';
import { redisAnswers } from '../dataplane/redis.js';
import { readWorkflowFile } from '../cli/io.js';
import { printJobView } from '../cli/commands/job.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROBOT = 'demo';
const root = join(import.meta.dirname, '..');

async function ensureRedis(): Promise<ChildProcess | undefined> {
  if (await redisAnswers(REDIS_URL)) {
    console.log(`using the Redis at ${REDIS_URL}`);
    return undefined;
  }
  const port = new URL(REDIS_URL).port || '6379';
  console.log(`no Redis answers at ${REDIS_URL}: starting redis-server on 127.0.0.1:${port}`);
  const child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await redisAnswers(REDIS_URL)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start');
}

const redisChild = await ensureRedis();
// The operator's dev-mode runtime runs the robots: the same processes `rpa operator --runtime process` starts.
const robots = new ProcessRobotRuntime({ redisUrl: REDIS_URL, env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } });
// Children must not outlive the demo, even when it is interrupted or its output pipe closes.
process.on('exit', () => {
  robots.killNow();
  redisChild?.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGPIPE'] as const) process.on(signal, () => process.exit(130));
const robot = { name: ROBOT, namespace: 'default', uid: 'demo', spec: robotSpec.parse({ jobsPerPod: 2 }) };
await robots.apply(robot, 2);
for (let i = 0; robots.state(robot).ready < 2; i++) {
  if (i > 600 || robots.state(robot).replicas < 2) throw new Error('the demo robots did not start');
  await new Promise((r) => setTimeout(r, 50));
}
console.log('two robots ready');
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const client = new JobClient(redis);
let failures = 0;
try {
  const dir = join(root, 'examples', 'workflows');
  const files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  const submitted = [];
  for (const f of files) {
    const wf = await readWorkflowFile(join(dir, f));
    const { id } = await client.submit({
      queue: queueName('default', ROBOT),
      payload: { workflow: { name: wf.metadata.name, spec: wf.spec, hash: contentHash(wf.spec) }, variables: {}, source: { kind: 'cli' } },
    });
    console.log(`submitted ${f} as job ${id}`);
    submitted.push(id);
  }
  for (const id of submitted) {
    const view = await client.waitFor(id, { timeoutMs: 120_000 });
    console.log('');
    printJobView(view);
    if (view.state !== 'succeeded') failures++;
  }
} finally {
  await client.close();
  redis.disconnect();
  await robots.close();
  redisChild?.kill('SIGTERM');
}
console.log(`\n${failures === 0 ? 'all jobs succeeded' : `${failures} job(s) did not succeed`}`);
process.exitCode = failures === 0 ? 0 : 1;
