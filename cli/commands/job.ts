import type { Command } from 'commander';
import type { JobView } from '../../core/job.js';
import { JobClient } from '../../dataplane/jobs.js';
import { createRedis, resolveRedisUrl } from '../../dataplane/redis.js';
import { dataPlaneFromEnv } from '../../dataplane/settings.js';
import { nodeTable, printJson, printVariables, UsageError } from '../io.js';

export function printJobView(v: JobView): void {
  const lines = [
    `job ${v.id}`,
    `  workflow:  ${v.workflow}`,
    `  queue:     ${v.queue}`,
    `  state:     ${v.state}`,
    `  priority:  ${v.priority}`,
    `  attempts:  ${v.attemptsMade}/${v.attemptsAllowed}`,
    `  created:   ${v.createdAt}`,
  ];
  if (v.startedAt) lines.push(`  started:   ${v.startedAt}`);
  if (v.finishedAt) lines.push(`  finished:  ${v.finishedAt}`);
  if (v.progress?.currentNode && v.state === 'running') lines.push(`  node:      ${v.progress.currentNode}`);
  const r = v.result;
  if (r?.robot) lines.push(`  robot:     ${r.robot.name} (${r.robot.id})`);
  if (r?.resumedAfter) lines.push(`  resumed after node ${r.resumedAfter}`);
  if (r?.error) lines.push(`  error:     ${r.error.message}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (r && r.nodes.length > 0) {
    process.stdout.write(`\n${nodeTable(r.nodes)}\n`);
  }
  if (r && Object.keys(r.variables).length > 0) printVariables(r.variables);
}

async function withClient<T>(redisFlag: string | undefined, fn: (c: JobClient) => Promise<T>): Promise<T> {
  const redis = createRedis(resolveRedisUrl(redisFlag));
  const client = new JobClient(redis, dataPlaneFromEnv());
  try {
    return await fn(client);
  } finally {
    await client.close();
    await redis.quit();
  }
}

export function jobCommand(program: Command): void {
  const job = program.command('job').description('inspect and control jobs');
  job
    .command('get')
    .argument('<id>')
    .option('--json', 'print JSON')
    .option('--redis <url>', 'Redis URL; env REDIS_URL')
    .action(async (id: string, flags: { json?: boolean; redis?: string }) => {
      const view = await withClient(flags.redis, (c) => c.get(id));
      if (!view) throw new UsageError(`job ${id} not found`);
      if (flags.json) printJson(view);
      else printJobView(view);
    });
  job
    .command('cancel')
    .argument('<id>')
    .option('--redis <url>', 'Redis URL; env REDIS_URL')
    .action(async (id: string, flags: { redis?: string }) => {
      const outcome = await withClient(flags.redis, (c) => c.cancel(id));
      const text = {
        cancelled: `job ${id} cancelled`,
        signalled: `job ${id} is running: its robot was told to stop`,
        finished: `job ${id} had already finished`,
        not_found: `job ${id} not found`,
      }[outcome];
      if (outcome === 'not_found') throw new UsageError(text);
      process.stdout.write(`${text}\n`);
    });
  job
    .command('logs')
    .argument('<id>')
    .option('--redis <url>', 'Redis URL; env REDIS_URL')
    .action(async (id: string, flags: { redis?: string }) => {
      const logs = await withClient(flags.redis, (c) => c.logs(id));
      if (!logs) throw new UsageError(`job ${id} not found`);
      process.stdout.write(logs.map((l) => `${l}\n`).join(''));
    });
}
