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
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../core/meta.js';
import { eventually, testDataPlane } from './helpers/dataplane.js';
import { startManager, testOperatorConfig } from './helpers/operator.js';
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

  it('runs the operator as the chart\'s ServiceAccount (impersonated) through a Robot, a remote Robot, a Job and a Schedule', { timeout: 120_000 }, async () => {
    // Depends on the install above. Every API call below is authorised by the rendered RBAC only.
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(tc.cluster.kubeconfig);
    const user = kc.getCurrentUser();
    if (!user) throw new Error('no user in kubeconfig');
    kc.users = kc.users.map((u) => (u.name === user.name ? { ...u, impersonateUser: 'system:serviceaccount:rpa-system:rel-rpa-operator-operator' } : u));
    // The impersonation is real: the same client is refused what the Role does not grant.
    const denied = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: 'kube-system' }).then(() => 200, (e: unknown) => (e as { code?: number }).code);
    expect(denied).toBe(403);
    const settings = testDataPlane();
    const config = testOperatorConfig(settings, { RPA_WATCH_NAMESPACE: 'rpa-system', RPA_LEADER_ELECTION_NAMESPACE: 'rpa-system', RPA_LEASE_NAME: 'rel-rpa-operator-operator' });
    const manager = await startManager(kc, config);
    try {
      const admin = tc.kc.makeApiClient(k8s.CustomObjectsApi);
      const ref = (plural: string, name: string) => ({ group: API_GROUP, version: API_VERSION, namespace: 'rpa-system', plural, name });
      const create = (plural: string, kind: string, name: string, spec: unknown) =>
        admin.createNamespacedCustomObject({ ...ref(plural, name), body: { apiVersion: API_GROUP_VERSION, kind, metadata: { name }, spec } });
      await create('robots', 'Robot', 'pods-bot', { mode: 'pods', minReplicas: 1, maxReplicas: 2 });
      await create('robots', 'Robot', 'remote-bot', { mode: 'remote' });
      await create('workflows', 'Workflow', 'noop', { nodes: [{ id: 'start', type: 'start' }, { id: 'end', type: 'end' }], edges: [{ from: 'start', to: 'end' }] });
      await create('jobs', 'Job', 'once', { workflowRef: { name: 'noop' }, robotSelector: { name: 'pods-bot' } });
      await create('schedules', 'Schedule', 'tick', { cron: '* * * * * *', jobTemplate: { spec: { workflowRef: { name: 'noop' }, robotSelector: { name: 'pods-bot' } } } });
      const apps = tc.kc.makeApiClient(k8s.AppsV1Api);
      const core = tc.kc.makeApiClient(k8s.CoreV1Api);
      await eventually(() => apps.readNamespacedDeployment({ name: 'rpa-robot-pods-bot', namespace: 'rpa-system' }).catch(() => undefined), 20_000, 'Deployment applied');
      await eventually(() => core.readNamespacedSecret({ name: 'rpa-robot-remote-bot-token', namespace: 'rpa-system' }).catch(() => undefined), 20_000, 'token Secret');
      await eventually(async () => ((await admin.getNamespacedCustomObject(ref('jobs', 'once'))) as { status?: { phase?: string } }).status?.phase, 20_000, 'Job enqueued and mirrored');
      await eventually(async () => {
        const list = (await admin.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'rpa-system', plural: 'jobs', labelSelector: 'rpa.dev/schedule=tick' })) as { items: unknown[] };
        return list.items.length > 0 ? true : undefined;
      }, 20_000, 'Schedule run created');
      await eventually(async () => ((await admin.getNamespacedCustomObject(ref('robots', 'pods-bot'))) as { status?: { conditions?: unknown[] } }).status?.conditions, 20_000, 'Robot status');
      const events = await core.listNamespacedEvent({ namespace: 'rpa-system' });
      expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['Enqueued', 'RunCreated']));
    } finally {
      await manager.stop();
    }
  });
});
