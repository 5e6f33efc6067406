import type { Command } from 'commander';
import { RobotAgent } from '../../robot/agent.js';
import { loadRobotConfig } from '../../robot/config.js';
import { RemoteRobot } from '../../robot/remote/client.js';
import { loadRemoteRobotConfig } from '../../robot/remote/config.js';
import { UsageError } from '../io.js';

interface RobotFlags {
  name?: string;
  namespace?: string;
  redis?: string;
  concurrency?: string;
  capabilities?: string;
  metricsPort?: string;
  id?: string;
  api?: string;
  token?: string;
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
    .option('--api <url>', 'join a remote Robot through this API (WebSocket) instead of Redis; env RPA_API_URL')
    .option('--token <token>', "the remote Robot's join token (from its rpa-robot-<name>-token Secret); env RPA_ROBOT_TOKEN")
    .action(async (flags: RobotFlags) => {
      if (flags.api ?? process.env.RPA_API_URL) {
        await runRemote(flags);
        return;
      }
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

/** `rpa robot --api URL --token T`: a remote machine; no Redis, no Kubernetes access, just the API. */
async function runRemote(flags: RobotFlags): Promise<void> {
  let cfg;
  try {
    cfg = loadRemoteRobotConfig({ ...flags });
  } catch (err) {
    throw new UsageError((err as Error).message, 2);
  }
  const robot = new RemoteRobot(cfg);
  const stop = (signal: string, code = 0) => {
    robot.logger.info({ signal }, 'stop requested');
    void robot.stop().then(() => process.exit(code));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  robot.onFatal = (err) => {
    process.stderr.write(`rpa robot: ${err.message}\n`);
    stop('join refused', 1);
  };
  let queue: string;
  try {
    queue = await robot.start();
  } catch (err) {
    await robot.stop(0);
    throw new UsageError((err as Error).message, 1);
  }
  // Tests and scripts wait for this line on stdout before submitting work.
  process.stdout.write(`robot ${cfg.id} ready on queue ${queue} via ${cfg.apiUrl}\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
