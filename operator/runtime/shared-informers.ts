/**
 * One informer per resource for the whole operator: the Job controller, the Robot controller and
 * the Schedule controller all read Robots, and should hold one watch and one cache for them, as
 * client-go's SharedInformerFactory does.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../../core/logger.js';
import { Informer, type InformerOptions } from './informer.js';

export interface SharedInformerOptions {
  /** Watch one namespace, or all when unset. */
  namespace?: string;
  resyncPeriodMs?: number;
  registry?: Registry;
  logger?: Logger;
}

export class SharedInformers {
  private readonly informers = new Map<string, Informer<k8s.KubernetesObject>>();
  private started = false;

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly opts: SharedInformerOptions = {},
  ) {}

  /** The informer for this resource, created on first use; started with the others by start(). */
  for<T extends k8s.KubernetesObject>(resource: Pick<InformerOptions, 'apiVersion' | 'kind' | 'plural' | 'labelSelector'>): Informer<T> {
    const key = `${resource.apiVersion}/${resource.plural}?${resource.labelSelector ?? ''}`;
    let informer = this.informers.get(key);
    if (informer === undefined) {
      informer = new Informer(this.kc, {
        ...resource,
        ...(this.opts.namespace ? { namespace: this.opts.namespace } : {}),
        ...(this.opts.resyncPeriodMs !== undefined ? { resyncPeriodMs: this.opts.resyncPeriodMs } : {}),
        ...(this.opts.registry ? { registry: this.opts.registry } : {}),
        ...(this.opts.logger ? { logger: this.opts.logger } : {}),
      });
      this.informers.set(key, informer);
      if (this.started) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  /** Starts every informer asked for so far and waits until all have listed once. */
  async start(timeoutMs?: number): Promise<void> {
    this.started = true;
    for (const i of this.informers.values()) i.start();
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(timeoutMs)));
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  /** Every informer, for health checks and tests that break watches. */
  all(): Informer<k8s.KubernetesObject>[] {
    return [...this.informers.values()];
  }
}
