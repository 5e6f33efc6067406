import type * as k8s from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import type { DataPlaneSettings } from '../core/queue.js';
import type { JobClient } from '../dataplane/jobs.js';
import type { KeyStore } from './auth/keys.js';

/** What the API's routes use; tests build it from a real Redis and a real kube-apiserver. */
export interface ApiDeps {
  redis: Redis;
  settings: DataPlaneSettings;
  jobs: JobClient;
  /** Absent when the API runs without a cluster: Kubernetes-backed routes answer 503. */
  kc?: k8s.KubeConfig;
  keys: KeyStore;
  registry: Registry;
  logger?: Logger;
}
