/**
 * The Helm chart, rendered by a real helm (built from its Go module by e2e/cluster/build.sh) and
 * checked by a real kube-apiserver: lint, template with defaults and with every optional part,
 * values.schema.json refusing bad values by name, CRDs in step with crds/, a server-side dry run,
 * an install, and the rendered RBAC granting the operator exactly what it uses.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubectl, kubectlBinary, startTestCluster, type TestCluster } from './helpers/cluster.js';

const ROOT = join(import.meta.dirname, '..');
const CHART = join(ROOT, 'charts', 'rpa-operator');
const BUILD = join(ROOT, 'e2e', 'cluster', 'build.sh');
let helm = '';
let tc: TestCluster;

function run(bin: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
}

const ALL_ON = ['--set', 'api.ingress.enabled=true', '--set', 'api.ingress.tls=true', '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'api.adminToken=bootstrap-admin-0123456789'];

async function template(extra: string[] = []): Promise<{ kind: string; metadata: { name: string; namespace?: string } }[]> {
  const r = await run(helm, ['template', 'rel', CHART, '--namespace', 'rpa-system', '--include-crds', ...extra]);
  if (r.code !== 0) throw new Error(r.out);
  return parseAllDocuments(r.out)
    .map((d) => d.toJSON() as { kind: string; metadata: { name: string; namespace?: string } } | null)
    .filter((d): d is { kind: string; metadata: { name: string; namespace?: string } } => d !== null);
}

beforeAll(async () => {
  execFileSync('bash', [BUILD, 'helm'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 });
  helm = join(execFileSync('bash', [BUILD, '--print-dir'], { encoding: 'utf8' }).trim(), 'helm');
  tc = await startTestCluster();
}, 900_000);

afterAll(async () => {
  await tc?.stop();
});

describe('charts/rpa-operator', () => {
  it('lints clean with defaults and with every optional part on', async () => {
    for (const extra of [[], ALL_ON]) {
      const r = await run(helm, ['lint', '--strict', CHART, ...extra]);
      expect(r.code, r.out).toBe(0);
    }
  });

  it('carries the generated CRDs unchanged', () => {
    const generated = readdirSync(join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml'));
    expect(readdirSync(join(CHART, 'crds')).sort()).toEqual(generated.sort());
    for (const f of generated) expect(readFileSync(join(CHART, 'crds', f), 'utf8'), `${f}: run cp crds/*.yaml charts/rpa-operator/crds/`).toBe(readFileSync(join(ROOT, 'crds', f), 'utf8'));
  });

  it('renders the operator with 2 replicas, the API, RBAC, PDBs, Redis and the dashboard; optional parts on demand', async () => {
    const kinds = (docs: { kind: string }[]) => docs.map((d) => d.kind).sort();
    const plain = await template();
    process.stderr.write(`[chart] default: ${plain.length} manifests; `);
    expect(kinds(plain)).toEqual(
      expect.arrayContaining(['CustomResourceDefinition', 'Deployment', 'Deployment', 'Role', 'RoleBinding', 'ServiceAccount', 'PodDisruptionBudget', 'StatefulSet', 'ConfigMap', 'Secret', 'Service']),
    );
    expect(plain.some((d) => d.kind === 'Ingress' || d.kind === 'ServiceMonitor' || d.kind.startsWith('Cluster'))).toBe(false);
    const all = await template([...ALL_ON, '--set', 'operator.watchNamespace=*']);
    process.stderr.write(`all optional parts: ${all.length} manifests\n`);
    expect(kinds(all)).toEqual(expect.arrayContaining(['Ingress', 'ServiceMonitor', 'ClusterRole', 'ClusterRoleBinding']));
  });

  it('refuses bad values at template time, naming them', async () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'operator.replicaCount=-1'], /operator\/replicaCount/],
      [['--set', 'redis.mode=sentinel'], /redis\/mode/],
      [['--set', 'redis.mode=external'], /redis/],
      [['--set', 'api.adminToken=short'], /api\/adminToken/],
      [['--set', 'operator.runtime=docker'], /operator\/runtime/],
      [['--set', 'nonsense=1'], /nonsense/],
    ];
    for (const [extra, message] of cases) {
      const r = await run(helm, ['template', 'rel', CHART, ...extra]);
      expect(r.code, extra.join(' ')).not.toBe(0);
      expect(r.out).toMatch(message);
    }
  });

  it('passes a server-side dry run and installs; the operator may do what it needs and no more', { timeout: 180_000 }, async () => {
    const r = await run(helm, ['template', 'rel', CHART, '--namespace', 'rpa-system', '--include-crds']);
    expect(r.code, r.out).toBe(0);
    const file = join(tmpdir(), `rpa-chart-${process.pid}.yaml`);
    writeFileSync(file, r.out);
    await kubectl(tc.cluster, ['create', 'namespace', 'rpa-system']);
    // CRDs first: the dry run of the rest needs their kinds known.
    const crds = join(tmpdir(), `rpa-chart-crds-${process.pid}.yaml`);
    writeFileSync(crds, (await run(helm, ['show', 'crds', CHART])).out);
    await kubectl(tc.cluster, ['apply', '--server-side', '-f', crds]);
    await kubectl(tc.cluster, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    await kubectl(tc.cluster, ['apply', '--dry-run=server', '-f', file]);
    const applied = await kubectl(tc.cluster, ['apply', '-f', file]);
    expect(applied).toContain('deployment.apps/rel-rpa-operator-operator created');

    const sa = 'system:serviceaccount:rpa-system:rel-rpa-operator-operator';
    const can = async (verb: string, resource: string, ns = 'rpa-system') => {
      const [res, sub] = resource.split('/');
      const args = ['--kubeconfig', tc.cluster.kubeconfig, 'auth', 'can-i', verb, res ?? resource, '-n', ns, '--as', sa, ...(sub ? [`--subresource=${sub}`] : [])];
      // kubectl may add a warning (a cluster-scoped kind asked with -n): keep the answer line.
      const lines = (await run(kubectlBinary(tc.cluster), args)).out.split('\n');
      return lines.find((l) => /^(yes|no)$/.test(l.trim()))?.trim() ?? lines.join(' ');
    };
    const needed: [string, string][] = [
      ['list', 'robots.rpa.dev'], ['watch', 'robots.rpa.dev'], ['list', 'workflows.rpa.dev'], ['watch', 'schedules.rpa.dev'],
      ['create', 'jobs.rpa.dev'], ['patch', 'jobs.rpa.dev'], ['delete', 'jobs.rpa.dev'], ['watch', 'jobs.rpa.dev'],
      ['patch', 'robots.rpa.dev/status'], ['patch', 'jobs.rpa.dev/status'], ['patch', 'schedules.rpa.dev/status'], ['patch', 'workflows.rpa.dev/status'],
      ['get', 'deployments.apps'], ['create', 'deployments.apps'], ['patch', 'deployments.apps'], ['delete', 'deployments.apps'],
      ['list', 'pods'], ['patch', 'pods'], ['get', 'secrets'], ['create', 'secrets'], ['update', 'secrets'], ['create', 'events'], ['patch', 'events'],
      ['get', 'leases.coordination.k8s.io'], ['create', 'leases.coordination.k8s.io'], ['update', 'leases.coordination.k8s.io'],
    ];
    for (const [verb, resource] of needed) expect(`${verb} ${resource}: ${await can(verb, resource)}`).toBe(`${verb} ${resource}: yes`);
    const refused: [string, string, string][] = [
      ['get', 'secrets', 'kube-system'], ['list', 'secrets', 'rpa-system'], ['delete', 'secrets', 'rpa-system'], ['list', 'robots.rpa.dev', 'default'],
      ['create', 'clusterroles.rbac.authorization.k8s.io', 'rpa-system'], ['delete', 'customresourcedefinitions.apiextensions.k8s.io', 'rpa-system'], ['delete', 'pods', 'rpa-system'],
    ];
    for (const [verb, resource, ns] of refused) expect(`${verb} ${resource} -n ${ns}: ${await can(verb, resource, ns)}`).toBe(`${verb} ${resource} -n ${ns}: no`);
  });

  it('passes a server-side dry run with every optional part on and cluster-wide RBAC', { timeout: 120_000 }, async () => {
    // The Prometheus Operator's ServiceMonitor kind, as a schemaless stand-in: the dry run checks our object against the API server, not its CRD.
    const stub = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'servicemonitors.monitoring.coreos.com' },
      spec: {
        group: 'monitoring.coreos.com',
        scope: 'Namespaced',
        names: { plural: 'servicemonitors', singular: 'servicemonitor', kind: 'ServiceMonitor' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    };
    const stubFile = join(tmpdir(), `rpa-chart-sm-${process.pid}.json`);
    writeFileSync(stubFile, JSON.stringify(stub));
    await kubectl(tc.cluster, ['apply', '-f', stubFile]);
    await kubectl(tc.cluster, ['wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com', '--timeout=60s']);
    const r = await run(helm, ['template', 'all', CHART, '--namespace', 'rpa-system', ...ALL_ON, '--set', 'operator.watchNamespace=*']);
    expect(r.code, r.out).toBe(0);
    const file = join(tmpdir(), `rpa-chart-all-${process.pid}.yaml`);
    writeFileSync(file, r.out);
    const out = await kubectl(tc.cluster, ['apply', '--dry-run=server', '-f', file]);
    expect(out).toMatch(/clusterrole\.rbac\.authorization\.k8s\.io\/all-rpa-operator-operator created \(server dry run\)/);
    expect(out).toMatch(/servicemonitor\.monitoring\.coreos\.com\/all-rpa-operator created \(server dry run\)/);
    expect(out).toMatch(/ingress\.networking\.k8s\.io\/all-rpa-operator-api created \(server dry run\)/);
  });
});
