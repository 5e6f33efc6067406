import type { Command } from 'commander';
import { parseVarArgs } from '../../core/inputs.js';
import { contentHash } from '../../core/hash.js';
import { jobPriority } from '../../core/job.js';
import { queueName } from '../../core/queue.js';
import { JobClient } from '../../dataplane/jobs.js';
import { createRedis, resolveRedisUrl } from '../../dataplane/redis.js';
import { dataPlaneFromEnv } from '../../dataplane/settings.js';
import { collect, printJson, readWorkflowFile, UsageError } from '../io.js';
import { printJobView } from './job.js';

interface SubmitFlags {
  robot: string;
  namespace: string;
  var?: string[];
  priority?: string;
  retries?: string;
  timeout?: string;
  id?: string;
  wait?: boolean;
  json?: boolean;
  redis?: string;
}

export function submitCommand(program: Command): void {
  program
    .command('submit')
    .description("enqueue a workflow run on a Robot's queue")
    .argument('<file>', 'Workflow manifest, YAML or JSON')
    .requiredOption('--robot <name>', 'Robot whose queue takes the job')
    .option('--namespace <ns>', 'namespace of the Robot', 'default')
    .option('--var <name=value>', 'input variable (repeatable)', collect)
    .option('--priority <n>', '0..100, higher runs first', '50')
    .option('--retries <n>', 'extra attempts after a failure', '0')
    .option('--timeout <seconds>', 'job timeout')
    .option('--id <id>', 'job id; submitting an id twice runs it once')
    .option('--wait', 'wait for the job to finish and print its result')
    .option('--json', 'print JSON')
    .option('--redis <url>', 'Redis URL; env REDIS_URL')
    .action(async (file: string, flags: SubmitFlags) => {
      const wf = await readWorkflowFile(file);
      const priority = jobPriority.safeParse(Number(flags.priority));
      if (!priority.success) throw new UsageError(`--priority must be an integer from 0 to 100, got "${flags.priority}"`);
      const redis = createRedis(resolveRedisUrl(flags.redis));
      const client = new JobClient(redis, dataPlaneFromEnv());
      try {
        const submitted = await client.submit({
          queue: queueName(flags.namespace, flags.robot),
          ...(flags.id ? { jobId: flags.id } : {}),
          priority: priority.data,
          retries: Number(flags.retries ?? 0),
          payload: {
            workflow: { name: wf.metadata.name, spec: wf.spec, hash: contentHash(wf.spec) },
            variables: parseVarArgs(flags.var ?? []),
            ...(flags.timeout ? { timeoutSeconds: Number(flags.timeout) } : {}),
            source: { kind: 'cli' },
          },
        });
        if (!flags.wait) {
          if (flags.json) printJson(submitted);
          else process.stdout.write(`${submitted.id}\n`);
          return;
        }
        const view = await client.waitFor(submitted.id);
        if (flags.json) printJson(view);
        else printJobView(view);
        process.exitCode = view.state === 'succeeded' ? 0 : 1;
      } finally {
        await client.close();
        await redis.quit();
      }
    });
}
