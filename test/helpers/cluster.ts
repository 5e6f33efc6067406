import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { type Cluster, startCluster } from '../../e2e/cluster/cluster.js';
import { API_GROUP, API_VERSION } from '../../core/meta.js';

const ROOT = join(import.meta.dirname, '..', '..');

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
  const { cluster, kc } = tc;
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  // kubectl, not client-node: its typed serializer drops keys such as x-kubernetes-preserve-unknown-fields.
  await kubectl(cluster, ['apply', '--server-side', '--field-manager=rpa-tests', '-f', join(ROOT, 'crds')]);
  const files = readdirSync(join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml'));
  for (const f of files) {
    const name = (parse(readFileSync(join(ROOT, 'crds', f), 'utf8')) as k8s.V1CustomResourceDefinition).metadata?.name ?? '';
    for (let i = 0; ; i++) {
      const crd = await ext.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 100) throw new Error(`CRD ${name} not Established`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
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

/** The cluster's own kubectl (cluster.env: a client of the server's version), else KUBECTL or kubectl on PATH. */
export function kubectlBinary(cluster: Cluster): string {
  const envFile = join(cluster.dir, 'cluster.env');
  const line = existsSync(envFile) ? readFileSync(envFile, 'utf8').split('\n').find((l) => l.startsWith('KUBECTL=')) : undefined;
  return line?.slice('KUBECTL='.length).replace(/^["']|["']$/g, '') ?? process.env.KUBECTL ?? 'kubectl';
}

export function kubectl(cluster: Cluster, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(kubectlBinary(cluster), ['--kubeconfig', cluster.kubeconfig, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}
