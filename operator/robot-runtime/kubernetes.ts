import * as k8s from '@kubernetes/client-node';
import { robotDeployment, deploymentName, ROBOT_LABEL } from '../controllers/robot-objects.js';
import type { RobotRuntime, RobotTarget, RuntimeState } from './types.js';
import { isNotFound } from '../runtime/api-errors.js';

export const FIELD_MANAGER = 'rpa-operator';
/** ReplicaSets delete pods with the lowest cost first: idle robots go before busy ones. */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export interface KubernetesRuntimeOptions {
  defaultImage: string;
  redisUrl?: string;
  redisUrlSecret?: { name: string; key: string };
}


/**
 * Robots as Deployments, written by server-side apply with one field manager: the operator's
 * desired Deployment is applied whole each time, so there is no read-modify-write to race.
 */
export class KubernetesRobotRuntime implements RobotRuntime {
  private readonly objects: k8s.KubernetesObjectApi;
  private readonly apps: k8s.AppsV1Api;
  private readonly core: k8s.CoreV1Api;

  constructor(
    kc: k8s.KubeConfig,
    private readonly opts: KubernetesRuntimeOptions,
  ) {
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  async apply(robot: RobotTarget, replicas: number): Promise<RuntimeState> {
    const body = robotDeployment({
      robot,
      spec: robot.spec,
      replicas,
      defaultImage: this.opts.defaultImage,
      ...(this.opts.redisUrlSecret ? { redisUrlSecret: this.opts.redisUrlSecret } : { redisUrl: this.opts.redisUrl }),
    });
    const applied = (await this.objects.patch(body as k8s.KubernetesObject, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply)) as k8s.V1Deployment;
    return { replicas: applied.spec?.replicas ?? replicas, ready: applied.status?.readyReplicas ?? 0 };
  }

  async state(robot: Pick<RobotTarget, 'name' | 'namespace'>): Promise<RuntimeState | undefined> {
    try {
      const d = await this.apps.readNamespacedDeployment({ name: deploymentName(robot.name), namespace: robot.namespace });
      return { replicas: d.spec?.replicas ?? 0, ready: d.status?.readyReplicas ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Owner references would collect it too; deleting here lets a Robot switch to remote mode at once. */
  async remove(robot: Pick<RobotTarget, 'name' | 'namespace'>): Promise<void> {
    try {
      await this.apps.deleteNamespacedDeployment({ name: deploymentName(robot.name), namespace: robot.namespace, propagationPolicy: 'Background' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /**
   * Marks busy robot pods expensive to delete, so a scale-down takes idle pods first. Pods are
   * named by their robot id (POD_NAME); only pods whose cost changes are patched.
   */
  async protectBusyPods(robot: Pick<RobotTarget, 'name' | 'namespace'>, busyJobsByPod: ReadonlyMap<string, number>): Promise<number> {
    const pods = await this.core.listNamespacedPod({ namespace: robot.namespace, labelSelector: `${ROBOT_LABEL}=${robot.name}` });
    let patched = 0;
    for (const pod of pods.items) {
      const name = pod.metadata?.name;
      if (!name) continue;
      const want = String(Math.min(1_000_000, (busyJobsByPod.get(name) ?? 0) * 100));
      if (pod.metadata?.annotations?.[POD_DELETION_COST] === want) continue;
      await this.core.patchNamespacedPod(
        { name, namespace: robot.namespace, body: { metadata: { annotations: { [POD_DELETION_COST]: want } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      patched++;
    }
    return patched;
  }

  async close(): Promise<void> {}
}
