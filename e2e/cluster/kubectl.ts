import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { Cluster } from './cluster.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The cluster's own kubectl (cluster.env: a client of the server's version), else KUBECTL or kubectl on PATH. */
export function kubectlBinary(cluster: Pick<Cluster, 'dir'>): string {
  const envFile = join(cluster.dir, 'cluster.env');
  const line = existsSync(envFile) ? readFileSync(envFile, 'utf8').split('\n').find((l) => l.startsWith('KUBECTL=')) : undefined;
  return line?.slice('KUBECTL='.length).replace(/^["']|["']$/g, '') ?? process.env.KUBECTL ?? 'kubectl';
}

export function kubectl(cluster: Pick<Cluster, 'dir' | 'kubeconfig'>, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(kubectlBinary(cluster), ['--kubeconfig', cluster.kubeconfig, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

/** Applies crds/ (server-side, as `kubectl apply` users do) and waits until each is Established. */
export async function installCrds(cluster: Pick<Cluster, 'dir' | 'kubeconfig'>, kc: k8s.KubeConfig): Promise<void> {
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  // kubectl, not client-node: its typed serializer drops keys such as x-kubernetes-preserve-unknown-fields.
  await kubectl(cluster, ['apply', '--server-side', '--field-manager=rpa-install', '-f', join(ROOT, 'crds')]);
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
}
