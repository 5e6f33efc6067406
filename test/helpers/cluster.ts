import * as k8s from '@kubernetes/client-node';
import { type Cluster, startCluster } from '../../e2e/cluster/cluster.js';
import { installCrds } from '../../e2e/cluster/kubectl.js';
import { API_GROUP, API_VERSION } from '../../core/meta.js';

export interface TestCluster {
  cluster: Cluster;
  kc: k8s.KubeConfig;
  stop(): Promise<void>;
}

/**
 * The local control plane (or E2E_KUBECONFIG) and a client for it, refusing any API server that
 * is not on loopback: tests create and delete objects freely.
 */
export async function startTestCluster(): Promise<TestCluster> {
  const cluster = await startCluster();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const server = kc.getCurrentCluster()?.server ?? '';
  if (!/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(server)) {
    await cluster.stop();
    throw new Error(`refusing to test against ${server}`);
  }
  return { cluster, kc, stop: () => cluster.stop() };
}

/** startTestCluster with crds/ installed and Established. */
export async function startClusterWithCrds(): Promise<TestCluster> {
  const tc = await startTestCluster();
  await installCrds(tc.cluster, tc.kc);
  return tc;
}

/** Creates a Robot custom resource and returns its uid, for objects that must be owned by it. */
export async function createRobot(kc: k8s.KubeConfig, name: string, spec: Record<string, unknown>, namespace = 'default'): Promise<string> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const created = (await custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace,
    plural: 'robots',
    body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'Robot', metadata: { name }, spec },
  })) as { metadata: { uid: string } };
  return created.metadata.uid;
}

export { installCrds, kubectl, kubectlBinary } from '../../e2e/cluster/kubectl.js';
