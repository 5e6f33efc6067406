/**
 * The CRDs of crds/ against a real kube-apiserver (e2e/cluster): what the server itself does with
 * them (validation, CEL, defaulting, printer columns, status and scale subresources, garbage
 * collection by the controller-manager) is what the operator will live with.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { API_GROUP, API_VERSION } from '../core/meta.js';
import { jobManifest } from '../core/job.js';
import { robotManifest, robotSpec } from '../core/robot.js';
import { scheduleManifest } from '../core/schedule.js';
import { workflowManifest } from '../core/workflow.js';
import { type Cluster, startCluster } from './cluster/cluster.js';
import { kubectlBinary } from '../test/helpers/cluster.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NS = `crds-e2e-${process.pid}`;
const PLURALS = { Robot: 'robots', Workflow: 'workflows', Job: 'jobs', Schedule: 'schedules' } as const;
type Kind = keyof typeof PLURALS;
const VALID_EXAMPLES = ['examples/workflows/hello.yaml', 'examples/robot.yaml', 'examples/job.yaml', 'examples/schedule.yaml'];
const INVALID_DIR = join(root, 'examples', 'invalid');
const INVALID_EXAMPLES = readdirSync(INVALID_DIR).filter((f) => f.endsWith('.yaml'));

/** The part of a custom object these tests read (client-node types custom objects as `any`). */
interface CustomObject {
  metadata: { name: string; uid: string; generation: number; resourceVersion: string };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

let cluster: Cluster | undefined;
let kubectlBin = 'kubectl';
let cacheDir = '';
let custom: k8s.CustomObjectsApi;
let apps: k8s.AppsV1Api;
let coreApi: k8s.CoreV1Api;
let extensions: k8s.ApiextensionsV1Api;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(...args: string[]): Promise<Run> {
  if (cluster === undefined) throw new Error('no cluster');
  const argv = ['--kubeconfig', cluster.kubeconfig, '--cache-dir', cacheDir, ...args];
  return new Promise((resolve) => {
    execFile(kubectlBin, argv, { timeout: 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function kubectlOk(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const ref = (kind: Kind, name: string) => ({ group: API_GROUP, version: API_VERSION, namespace: NS, plural: PLURALS[kind], name });
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

async function getObject(kind: Kind, name: string): Promise<CustomObject> {
  return (await custom.getNamespacedCustomObject(ref(kind, name))) as CustomObject;
}

async function createObject(kind: Kind, name: string, spec: Record<string, unknown>): Promise<CustomObject> {
  const body = { apiVersion: `${API_GROUP}/${API_VERSION}`, kind, metadata: { name }, spec };
  return (await custom.createNamespacedCustomObject({ ...ref(kind, name), body })) as CustomObject;
}

async function patchStatus(kind: Kind, name: string, body: Record<string, unknown>): Promise<CustomObject> {
  return (await custom.patchNamespacedCustomObjectStatus({ ...ref(kind, name), body }, mergePatch)) as CustomObject;
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const isNotFound = (e: unknown): boolean => e instanceof k8s.ApiException && e.code === 404;

/** kubectl's tables: one per resource type, separated by a blank line, columns by 2+ spaces. */
function tables(text: string): string[][][] {
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((block) => block.split('\n').map((line) => line.trim().split(/\s{2,}/)));
}

beforeAll(async () => {
  // A cold build of the control plane takes about 6 minutes (e2e/cluster/README.md).
  const started = Date.now();
  cluster = await startCluster();
  kubectlBin = kubectlBinary(cluster);
  cacheDir = mkdtempSync(join(tmpdir(), 'rpa-kubectl-cache-'));
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  apps = kc.makeApiClient(k8s.AppsV1Api);
  coreApi = kc.makeApiClient(k8s.CoreV1Api);
  extensions = kc.makeApiClient(k8s.ApiextensionsV1Api);

  await kubectlOk('apply', '-f', join(root, 'crds'));
  for (const plural of Object.values(PLURALS)) {
    await eventually(`${plural}.${API_GROUP} to be Established`, 60_000, async () => {
      const crd = await extensions.readCustomResourceDefinition({ name: `${plural}.${API_GROUP}` });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true ? true : undefined;
    });
  }
  await coreApi.createNamespace({ body: { metadata: { name: NS } } });
  process.stderr.write(`crds e2e: cluster (${cluster.kind}) ready with CRDs in ${Date.now() - started} ms\n`);
}, 900_000);

afterAll(async () => {
  if (cluster?.kind === 'existing') {
    await kubectl('delete', 'namespace', NS, '--wait=false');
  }
  await cluster?.stop();
  if (cacheDir !== '') rmSync(cacheDir, { recursive: true, force: true });
}, 120_000);

describe('the CRDs on a real API server', () => {
  it('are served under rpa.dev with their short names and the rpa category', async () => {
    const out = await kubectlOk('api-resources', `--api-group=${API_GROUP}`, '--no-headers', '-o', 'wide');
    const rows = out
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    // NAME SHORTNAMES APIVERSION NAMESPACED KIND VERBS CATEGORIES
    expect(rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[6]]).sort()).toEqual([
      ['jobs', 'rpajob', `${API_GROUP}/${API_VERSION}`, 'true', 'Job', 'rpa'],
      ['robots', 'rbt', `${API_GROUP}/${API_VERSION}`, 'true', 'Robot', 'rpa'],
      ['schedules', 'sched', `${API_GROUP}/${API_VERSION}`, 'true', 'Schedule', 'rpa'],
      ['workflows', 'wf', `${API_GROUP}/${API_VERSION}`, 'true', 'Workflow', 'rpa'],
    ]);
  });

  it('explain their fields (kubectl explain reads the generated descriptions)', async () => {
    // The OpenAPI document kubectl explain reads is published a moment after Established.
    const out = await eventually('the OpenAPI v3 document of rpa.dev', 30_000, async () => {
      const r = await kubectl('explain', `robots.${API_GROUP}.spec.jobsPerPod`);
      return r.code === 0 ? r.stdout : undefined;
    });
    expect(out).toContain('Jobs one robot process runs at once.');
  });

  it('accept the example manifests (kubectl apply)', async () => {
    const files = [...VALID_EXAMPLES, ...readdirSync(join(root, 'examples', 'workflows')).map((f) => `examples/workflows/${f}`)];
    const out = await kubectlOk('apply', '-n', NS, ...[...new Set(files)].flatMap((f) => ['-f', join(root, f)]));
    expect(out).toContain('robot.rpa.dev/hello-bot created');
    expect(out).toContain('job.rpa.dev/hello-ada created');
    expect(out).toContain('schedule.rpa.dev/hello-weekdays created');
    expect(out).toContain('workflow.rpa.dev/hello created');
  });

  it('default every field the examples leave out exactly as the zod schemas do', async () => {
    const manifests: Record<Kind, z.ZodType<{ spec: unknown }>> = {
      Robot: robotManifest,
      Workflow: workflowManifest,
      Job: jobManifest,
      Schedule: scheduleManifest,
    };
    for (const file of VALID_EXAMPLES) {
      const doc = parse(readFileSync(join(root, file), 'utf8')) as { kind: Kind; metadata: { name: string } };
      const expected = manifests[doc.kind].parse(doc).spec;
      const stored = await getObject(doc.kind, doc.metadata.name);
      expect(stored.spec, file).toEqual(expected);
    }
  });

  it('fill in the defaults of an empty Robot spec and of a minimal Schedule', async () => {
    const robot = await createObject('Robot', 'defaults-bot', {});
    expect(robot.spec).toEqual(robotSpec.parse({}));
    expect(robot.spec).toMatchObject({ mode: 'pods', jobsPerPod: 1, minReplicas: 0, maxReplicas: 10, scaleDownStabilizationSeconds: 60 });

    const schedule = await createObject('Schedule', 'defaults-schedule', {
      cron: '*/5 * * * *',
      jobTemplate: { spec: { workflowRef: { name: 'hello' }, robotSelector: { name: 'hello-bot' } } },
    });
    expect(schedule.spec).toMatchObject({
      timeZone: 'UTC',
      concurrencyPolicy: 'Allow',
      suspend: false,
      dstPolicy: 'RunOnce',
      jobTemplate: { spec: { priority: 50, retries: 0, variables: {}, cancel: false } },
    });
  });

  it.each(INVALID_EXAMPLES)('reject invalid/%s naming the field (kubectl apply)', async (file) => {
    const text = readFileSync(join(INVALID_DIR, file), 'utf8');
    const field = /^# expect: (\S+)$/m.exec(text)?.[1];
    expect(field).toBeDefined();
    const r = await kubectl('apply', '-n', NS, '-f', join(INVALID_DIR, file));
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stderr).toContain(' is invalid');
    expect(r.stderr).toContain(`${field}: `);
    const doc = parse(text) as { kind: Kind; metadata: { name: string } };
    await expect(getObject(doc.kind, doc.metadata.name)).rejects.toSatisfy(isNotFound);
  });

  it('reject an invalid object through the API with 422 and the field in the causes (client-node)', async () => {
    const error = await createObject('Robot', 'bad-bot', { minReplicas: 5, maxReplicas: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(k8s.ApiException);
    const apiError = error as k8s.ApiException<unknown>;
    expect(apiError.code).toBe(422);
    const body = (typeof apiError.body === 'string' ? JSON.parse(apiError.body) : apiError.body) as {
      reason: string;
      details: { causes: Array<{ field: string; message: string }> };
    };
    expect(body.reason).toBe('Invalid');
    expect(body.details.causes).toContainEqual(expect.objectContaining({ field: 'spec.minReplicas', message: expect.stringContaining('maxReplicas') }));
  });

  it('show the printer columns in kubectl get robots,workflows,jobs.rpa.dev,schedules', async () => {
    await patchStatus('Robot', 'hello-bot', { status: { desiredReplicas: 2, readyReplicas: 1, busySlots: 1, queueDepth: 3 } });
    await patchStatus('Workflow', 'hello', { status: { valid: true, nodeCount: 3 } });
    await patchStatus('Job', 'hello-ada', {
      status: { phase: 'succeeded', robot: 'hello-bot', duration: '3s', startTime: '2030-01-01T09:00:00Z', completionTime: '2030-01-01T09:00:03Z' },
    });
    await patchStatus('Schedule', 'hello-weekdays', { status: { lastScheduleTime: new Date(Date.now() - 3_600_000).toISOString(), nextScheduleTime: '2030-01-07T08:00:00Z' } });

    const out = await kubectlOk('get', '-n', NS, 'robots,workflows,jobs.rpa.dev,schedules');
    const [robots, workflows, jobs, schedules] = tables(out);
    expect(robots?.[0]).toEqual(['NAME', 'MODE', 'DESIRED', 'READY', 'BUSY', 'QUEUE', 'AGE']);
    expect(robots).toContainEqual(['robot.rpa.dev/hello-bot', 'pods', '2', '1', '1', '3', expect.stringMatching(/^\d+[smh]/)]);
    expect(workflows?.[0]).toEqual(['NAME', 'NODES', 'VALID', 'AGE']);
    expect(workflows).toContainEqual(['workflow.rpa.dev/hello', '3', 'true', expect.any(String)]);
    expect(jobs?.[0]).toEqual(['NAME', 'WORKFLOW', 'PHASE', 'ROBOT', 'DURATION', 'AGE']);
    expect(jobs).toContainEqual(['job.rpa.dev/hello-ada', 'hello', 'succeeded', 'hello-bot', '3s', expect.any(String)]);
    expect(schedules?.[0]).toEqual(['NAME', 'CRON', 'TIME ZONE', 'SUSPENDED', 'LAST RUN', 'NEXT RUN', 'AGE']);
    expect(schedules).toContainEqual([
      'schedule.rpa.dev/hello-weekdays',
      '0 9 * * 1-5',
      'Europe/Paris',
      'false',
      expect.stringMatching(/^(59m|60m|61m|\d+m\d+s)$/),
      '2030-01-07T08:00:00Z',
      expect.any(String),
    ]);

    // Short names, the category and the selectable fields reach the same objects.
    const names = await kubectlOk('get', '-n', NS, 'rbt,wf,rpajob,sched', '-o', 'name');
    expect(names).toContain('job.rpa.dev/hello-ada');
    expect(await kubectlOk('get', '-n', NS, 'rpa', '-o', 'name')).toContain('schedule.rpa.dev/hello-weekdays');
    expect(await kubectlOk('get', '-n', NS, 'jobs.rpa.dev', '--field-selector', 'status.phase=succeeded', '-o', 'name')).toBe('job.rpa.dev/hello-ada\n');
  });

  it('keep metadata.generation on status writes and ignore status in spec writes', async () => {
    const created = await createObject('Robot', 'gen-bot', {});
    expect(created.metadata.generation).toBe(1);

    const afterStatus = await patchStatus('Robot', 'gen-bot', { status: { desiredReplicas: 4, observedGeneration: 1 } });
    expect(afterStatus.metadata.generation).toBe(1);
    expect(afterStatus.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
    expect(afterStatus.status).toMatchObject({ desiredReplicas: 4 });

    // The status endpoint drops spec changes, the main endpoint drops status changes.
    const specThroughStatus = await patchStatus('Robot', 'gen-bot', { spec: { maxReplicas: 7 } });
    expect(specThroughStatus.spec.maxReplicas).toBe(10);
    expect(specThroughStatus.metadata.generation).toBe(1);
    const specWrite = (await custom.patchNamespacedCustomObject(
      { ...ref('Robot', 'gen-bot'), body: { spec: { maxReplicas: 7 }, status: { desiredReplicas: 99 } } },
      mergePatch,
    )) as CustomObject;
    expect(specWrite.metadata.generation).toBe(2);
    expect(specWrite.spec.maxReplicas).toBe(7);
    expect(specWrite.status).toMatchObject({ desiredReplicas: 4 });
  });

  it('scale a Robot through the scale subresource (kubectl scale)', async () => {
    await createObject('Robot', 'scale-bot', { minReplicas: 1, maxReplicas: 5 });
    await patchStatus('Robot', 'scale-bot', { status: { replicas: 1, selector: 'rpa.dev/robot=scale-bot' } });

    expect(await kubectlOk('scale', '-n', NS, 'robot/scale-bot', '--replicas=3')).toContain('robot.rpa.dev/scale-bot scaled');
    const robot = await getObject('Robot', 'scale-bot');
    expect(robot.spec.replicas).toBe(3);
    expect(robot.metadata.generation).toBe(2);

    const scale = (await custom.getNamespacedCustomObjectScale(ref('Robot', 'scale-bot'))) as {
      kind: string;
      spec: { replicas: number };
      status: { replicas: number; selector: string };
    };
    expect(scale).toMatchObject({ kind: 'Scale', spec: { replicas: 3 }, status: { replicas: 1, selector: 'rpa.dev/robot=scale-bot' } });

    // Scale writes go through the same schema: above spec.replicas' maximum is refused.
    const tooMany = await kubectl('scale', '-n', NS, 'robot/scale-bot', '--replicas=5000');
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.stderr).toContain('spec.replicas');
  });

  // The garbage collector learns of a CRD created after it started at its next discovery resync
  // (every 30 s). A background deletion before that leaves the Deployment's owner unresolvable,
  // and the collector retries it with exponential backoff: collected after ~40 s. A foreground
  // deletion is picked up by the collector's new Robot monitor at the resync itself, so it goes
  // first; afterwards a background deletion is collected within a second.
  it('delete a Robot in the foreground only after the garbage collector removed its Deployment', async () => {
    await ownedDeployment('gc-fg-bot');
    const deletedAt = Date.now();
    await custom.deleteNamespacedCustomObject({ ...ref('Robot', 'gc-fg-bot'), propagationPolicy: 'Foreground' });
    // The owner carries the foregroundDeletion finalizer until its blocking dependents are gone.
    await eventually('the Robot deleted in the foreground to disappear', 90_000, async () =>
      getObject('Robot', 'gc-fg-bot').then(
        () => undefined,
        (e: unknown) => (isNotFound(e) ? true : Promise.reject(e)),
      ),
    );
    await expect(apps.readNamespacedDeployment({ namespace: NS, name: 'gc-fg-bot' })).rejects.toSatisfy(isNotFound);
    process.stderr.write(`crds e2e: foreground deletion of a Robot with a Deployment took ${Date.now() - deletedAt} ms\n`);
  }, 120_000);

  it('let the garbage collector delete a Deployment owned by a Robot deleted in the background', async () => {
    await ownedDeployment('gc-bot');
    const deletedAt = Date.now();
    await kubectlOk('delete', '-n', NS, 'robot/gc-bot');
    await eventually('the owned Deployment to be garbage-collected', 90_000, async () =>
      apps.readNamespacedDeployment({ namespace: NS, name: 'gc-bot' }).then(
        () => undefined,
        (e: unknown) => (isNotFound(e) ? true : Promise.reject(e)),
      ),
    );
    process.stderr.write(`crds e2e: Deployment owned by a Robot collected ${Date.now() - deletedAt} ms after the Robot's deletion\n`);
  }, 120_000);
});

/** A Robot and a Deployment it owns (as the operator will create them), once the deployment controller acted on it. */
async function ownedDeployment(name: string): Promise<void> {
  const owner = await createObject('Robot', name, {});
  const labels = { 'rpa.dev/robot': name };
  await apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: {
        name,
        labels,
        ownerReferences: [{ apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'Robot', name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        // Never pulled: the local control plane has no kubelet.
        template: { metadata: { labels }, spec: { containers: [{ name: 'robot', image: 'registry.invalid/rpa-robot:test' }] } },
      },
    },
  });
  // A ReplicaSet shows the controller-manager at work, so a missing collection is the GC's.
  await eventually(`a ReplicaSet of Deployment ${name}`, 30_000, async () => {
    const sets = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: `rpa.dev/robot=${name}` });
    return sets.items.length > 0 ? true : undefined;
  });
}
