import type { Command } from 'commander';
import { RobotAgent } from '../../robot/agent.js';
import { loadRobotConfig } from '../../robot/config.js';
import { UsageError } from '../io.js';

interface RobotFlags {
  name?: string;
  namespace?: string;
  redis?: string;
  concurrency?: string;
  capabilities?: string;
  metricsPort?: string;
  id?: string;
}

export function robotCommand(program: Command): void {
  program
    .command('robot')
    .description("run a robot agent that takes jobs from its Robot's queue until SIGTERM")
    .option('--name <name>', 'Robot name (its queue); env RPA_ROBOT_NAME')
    .option('--namespace <ns>', 'Kubernetes namespace of the Robot; env RPA_NAMESPACE', undefined)
    .option('--redis <url>', 'Redis URL; env REDIS_URL, default redis://127.0.0.1:6379')
    .option('--concurrency <n>', 'jobs run at once; env RPA_CONCURRENCY')
    .option('--capabilities <list>', 'comma-separated capabilities; env RPA_CAPABILITIES')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port; env RPA_METRICS_PORT')
    .option('--id <id>', 'unique robot id (default: name-host-pid, or POD_NAME)')
    .action(async (flags: RobotFlags) => {
      let cfg;
      try {
        cfg = loadRobotConfig({ ...flags });
      } catch (err) {
        throw new UsageError((err as Error).message, 2);
      }
      const agent = new RobotAgent(cfg);
      const stop = (signal: string) => {
        agent.logger.info({ signal }, 'stop requested');
        void agent.stop().then(() => process.exit(0));
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      const parent = Number(process.env.RPA_PARENT_PID);
      if (parent > 0) {
        // Started by a dev-mode operator: outliving it would leave robots nobody scales or stops.
        const watch = setInterval(() => {
          if (!isAlive(parent)) {
            clearInterval(watch);
            stop('parent exited');
          }
        }, 1_000);
        watch.unref();
      }
      await agent.start();
      // Tests and scripts wait for this line on stdout before submitting work.
      process.stdout.write(`robot ${cfg.id} ready on queue ${agent.queue}${agent.metricsPort ? ` metrics :${agent.metricsPort}` : ''}\n`);
    });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
