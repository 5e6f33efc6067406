import type * as k8s from '@kubernetes/client-node';
import type { DataPlaneSettings } from '../../core/queue.js';
import { loadOperatorConfig, type OperatorConfig } from '../../operator/config.js';
import { type ManagerOptions, OperatorManager } from '../../operator/manager.js';
import { redisUrl } from './dataplane.js';

/** Operator configuration for tests: the test's Redis prefix, free loopback ports, its own Lease. */
export function testOperatorConfig(settings: DataPlaneSettings, overrides: Record<string, string> = {}): OperatorConfig {
  return loadOperatorConfig(
    {},
    {
      REDIS_URL: redisUrl(),
      RPA_QUEUE_PREFIX: settings.prefix,
      RPA_OPERATOR_METRICS_PORT: '0',
      RPA_OPERATOR_HEALTH_PORT: '0',
      RPA_OPERATOR_BIND_HOST: '127.0.0.1',
      RPA_LEADER_ELECTION_NAMESPACE: 'default',
      POD_NAME: `op-${settings.prefix}`,
      ...overrides,
    },
  );
}

export async function startManager(kc: k8s.KubeConfig, config: OperatorConfig, opts: ManagerOptions = {}): Promise<OperatorManager> {
  const manager = new OperatorManager(config, kc, opts);
  await manager.start();
  await manager.waitForLeadership();
  return manager;
}
