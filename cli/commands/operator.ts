import * as k8s from '@kubernetes/client-node';
import type { Command } from 'commander';
import { createLogger } from '../../core/logger.js';
import { loadOperatorConfig } from '../../operator/config.js';
import { OperatorManager } from '../../operator/manager.js';
import { UsageError } from '../io.js';

interface OperatorFlags {
  runtime?: string;
  namespace?: string;
  redis?: string;
  kubeconfig?: string;
}

export function operatorCommand(program: Command): void {
  program
    .command('operator')
    .description('run the operator: reconcile Robots, Workflows, Jobs and Schedules until SIGTERM')
    .option('--runtime <runtime>', 'kubernetes (robot Deployments) or process (robot processes on this machine); env RPA_OPERATOR_RUNTIME')
    .option('--namespace <ns>', 'watch one namespace (default: all); env RPA_WATCH_NAMESPACE')
    .option('--redis <url>', 'Redis URL; env REDIS_URL, default redis://127.0.0.1:6379')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
    .action(async (flags: OperatorFlags) => {
      let config;
      try {
        config = loadOperatorConfig(flags);
      } catch (err) {
        throw new UsageError((err as Error).message, 2);
      }
      const kc = new k8s.KubeConfig();
      if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
      else kc.loadFromDefault();
      if (!kc.getCurrentCluster()) throw new UsageError('no Kubernetes cluster: set KUBECONFIG, pass --kubeconfig, or run in a pod', 2);
      const logger = createLogger('rpa-operator', { identity: config.identity });
      const manager = new OperatorManager(config, kc, { logger });
      // Whatever ends the process, robot processes it started must not outlive it.
      process.once('exit', () => manager.killRobotsNow());
      const stop = (signal: string) => {
        logger.info({ signal }, 'stop requested');
        void manager.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'stop failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      await manager.start();
      // Scripts and tests wait for this line before applying resources.
      process.stdout.write(`operator ${config.identity} started (runtime ${config.runtime}, metrics :${manager.metricsPort}, health :${manager.healthPort})\n`);
    });
}
