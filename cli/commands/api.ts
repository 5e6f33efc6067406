import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { Command } from 'commander';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { buildApi } from '../../api/app.js';
import { ChainedKeyStore, type KeyStore, SecretKeyStore, StaticKeyStore } from '../../api/auth/keys.js';
import { loadApiConfig } from '../../api/config.js';
import { createLogger } from '../../core/logger.js';
import { JobClient } from '../../dataplane/jobs.js';
import { createRedis } from '../../dataplane/redis.js';
import { UsageError } from '../io.js';

interface ApiFlags {
  port?: string;
  host?: string;
  redis?: string;
  kubeconfig?: string;
}

export function apiCommand(program: Command): void {
  program
    .command('api')
    .description('serve the REST/WebSocket API, /metrics and the OpenAPI document until SIGTERM')
    .option('--port <port>', 'listen port; env RPA_API_PORT, default 8080')
    .option('--host <host>', 'listen address; env RPA_API_HOST, default 0.0.0.0')
    .option('--redis <url>', 'Redis URL; env REDIS_URL, default redis://127.0.0.1:6379')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
    .action(async (flags: ApiFlags) => {
      let config;
      try {
        config = loadApiConfig(flags);
      } catch (err) {
        throw new UsageError((err as Error).message, 2);
      }
      const logger = createLogger('rpa-api');
      const cluster = loadCluster(flags.kubeconfig);
      if (!cluster) logger.warn('no Kubernetes cluster configured: workflow, robot and schedule routes answer 503');
      const stores: KeyStore[] = [];
      if (config.adminToken) stores.push(new StaticKeyStore([{ token: config.adminToken, name: 'bootstrap-admin', role: 'admin', namespaces: ['*'] }]));
      if (cluster) stores.push(new SecretKeyStore(cluster, config.namespace, config.keysSecret, logger));
      if (stores.length === 0) logger.warn('no API keys: set RPA_ADMIN_TOKEN or configure a cluster with the API keys Secret');

      const redis = createRedis(config.redisUrl);
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      const jobs = new JobClient(redis, config.dataPlane);
      const app = await buildApi(
        { redis, settings: config.dataPlane, jobs, keys: new ChainedKeyStore(stores), registry, logger, ...(cluster ? { kc: cluster } : {}) },
        { bodyLimit: config.bodyLimit, rateLimitPerMinute: config.rateLimitPerMinute, logger: { level: process.env.LOG_LEVEL ?? 'info' } },
      );
      const stop = (signal: string) => {
        logger.info({ signal }, 'stop requested');
        void app
          .close()
          .then(() => jobs.close())
          .then(
            () => {
              redis.disconnect();
              process.exit(0);
            },
            (err: unknown) => {
              logger.error({ err }, 'stop failed');
              process.exit(1);
            },
          );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      const address = await app.listen({ port: config.port, host: config.host });
      process.stdout.write(`api listening on ${address} (docs at ${address}/docs)\n`);
    });
}

/**
 * The cluster to use, or none. client-node falls back to http://localhost:8080 when it finds no
 * configuration at all; the API would rather run without Kubernetes routes than talk to that.
 */
function loadCluster(file: string | undefined): k8s.KubeConfig | undefined {
  const kc = new k8s.KubeConfig();
  if (file) {
    kc.loadFromFile(file);
    return kc;
  }
  const home = homedir();
  const sources = [process.env.KUBECONFIG, home ? join(home, '.kube', 'config') : undefined, '/var/run/secrets/kubernetes.io/serviceaccount/token'];
  if (!sources.some((f) => f && existsSync(f.split(delimiter)[0] ?? f))) return undefined;
  kc.loadFromDefault();
  return kc;
}
