import * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Condition } from '../../core/meta.js';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../../core/meta.js';
import type { Logger } from '../../core/logger.js';
import type { Informer } from '../runtime/informer.js';
import { objectKey } from '../runtime/informer.js';
import type { SharedInformers } from '../runtime/shared-informers.js';
import { WorkQueue } from '../runtime/workqueue.js';
import { workflowStatus } from './workflow-status.js';

interface WorkflowObject extends k8s.KubernetesObject {
  spec?: unknown;
  status?: { conditions?: Condition[]; observedGeneration?: number } & Record<string, unknown>;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/**
 * Keeps every Workflow's status in step with its spec: valid or not (with the problems by node
 * id), node count, content hash, conditions. Writes only when the status would change, so a
 * resync costs reads, not writes.
 */
export class WorkflowController {
  readonly informer: Informer<WorkflowObject>;
  private readonly queue: WorkQueue;
  private readonly detach: (() => void)[] = [];
  private readonly custom: k8s.CustomObjectsApi;

  constructor(kc: k8s.KubeConfig, informers: SharedInformers, opts: { registry?: Registry; logger?: Logger; workers?: number } = {}) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.informer = informers.for<WorkflowObject>({ apiVersion: API_GROUP_VERSION, kind: 'Workflow', plural: 'workflows' });
    this.queue = new WorkQueue({
      name: 'workflow',
      reconcile: (key) => this.reconcile(key),
      workers: opts.workers ?? 2,
      ...(opts.registry ? { registry: opts.registry } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    const enqueue = (o: WorkflowObject) => this.queue.add(objectKey(o));
    this.detach.push(this.informer.addHandlers({ add: enqueue, update: (_old, cur) => enqueue(cur), delete: enqueue }));
  }

  /** Call after the shared informers have synced. */
  start(): void {
    this.queue.start();
  }

  async stop(): Promise<void> {
    // Informers outlive controllers (a replica that loses the Lease builds new ones): let go of them.
    for (const detach of this.detach.splice(0)) detach();
    await this.queue.shutdown();
  }

  private async reconcile(key: string): Promise<void> {
    const wf = this.informer.get(key);
    const name = wf?.metadata?.name;
    const namespace = wf?.metadata?.namespace;
    if (!wf || !name || !namespace || wf.metadata?.deletionTimestamp) return;
    const generation = wf.metadata?.generation ?? 0;
    const status = workflowStatus(wf.spec, generation, wf.status?.conditions, new Date());
    if (JSON.stringify(pick(wf.status)) === JSON.stringify(pick(status))) return;
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: API_GROUP, version: API_VERSION, namespace, plural: 'workflows', name, body: { status } },
      mergePatch,
    );
  }
}

/** The fields this controller owns, in a fixed order, for comparing what is stored with what it would write. */
function pick(status: object | undefined) {
  const s = status as Partial<Record<string, unknown>> | undefined;
  return s ? [s.valid, s.nodeCount, s.contentHash, s.problems, s.observedGeneration, s.conditions] : [];
}
