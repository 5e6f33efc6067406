// Drives the local demo behind `make run`; see scripts/run.sh.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { contentHash } from '../core/hash.js';
import { queueName } from '../core/queue.js';
import { JobClient } from '../dataplane/jobs.js';
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

function startRobot(id: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(root, 'bin', 'rpa.js'), 'robot', '--name', ROBOT, '--id', id, '--concurrency', '2', '--redis', REDIS_URL], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        console.log(`robot ${id} ready`);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`robot ${id} exited with ${code}`)));
  });
}

const redisChild = await ensureRedis();
const robots: ChildProcess[] = [];
// Children must not outlive the demo, even when it is interrupted or its output pipe closes.
process.on('exit', () => {
  for (const c of [...robots, redisChild]) c?.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGPIPE'] as const) process.on(signal, () => process.exit(130));
robots.push(...(await Promise.all([startRobot('demo-1'), startRobot('demo-2')])));
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
  await Promise.all(robots.map((r) => new Promise((res) => { r.once('exit', res); r.kill('SIGTERM'); })));
  redisChild?.kill('SIGTERM');
}
console.log(`\n${failures === 0 ? 'all jobs succeeded' : `${failures} job(s) did not succeed`}`);
process.exitCode = failures === 0 ? 0 : 1;
