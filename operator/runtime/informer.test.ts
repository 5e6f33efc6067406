/**
 * The informer against a real kube-apiserver (e2e/cluster): events, resync, and convergence after
 * the watch breaks. The 410 Gone relist is in informer-gone.test.ts: this server replays even
 * resourceVersion 1 from its watch cache, so it cannot be made to answer 410 on demand.
 */
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../e2e/cluster/cluster.js';
import { startTestCluster } from '../../test/helpers/cluster.js';
import { backoffWithJitter, Informer, objectKey } from './informer.js';

const NS = `informer-e2e-${process.pid}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

let cluster: Cluster | undefined;

let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
const informers: Informer<k8s.V1ConfigMap>[] = [];

function configMap(name: string, value: string): k8s.V1ConfigMap {
  return { metadata: { name, namespace: NS, labels: { suite: 'informer' } }, data: { value } };
}

function newInformer(options: Partial<ConstructorParameters<typeof Informer>[1]> = {}): Informer<k8s.V1ConfigMap> {
  const informer = new Informer<k8s.V1ConfigMap>(kc, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespace: NS, labelSelector: 'suite=informer', ...options });
  informers.push(informer);
  return informer;
}

beforeAll(async () => {
  ({ cluster, kc } = await startTestCluster());
  core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
}, 900_000);

afterAll(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  await cluster?.stop();
}, 120_000);

describe('backoffWithJitter', () => {
  it('doubles up to the ceiling and jitters within the upper half', () => {
    expect(backoffWithJitter(0, 100, 1000, () => 0)).toBe(50);
    expect(backoffWithJitter(3, 100, 1000, () => 1)).toBe(800);
    expect(backoffWithJitter(10, 100, 1000, () => 0.5)).toBe(750);
  });
});

describe('Informer (real kube-apiserver)', () => {
  it('sees create, update and delete of ConfigMaps and keeps a cache keyed by namespace/name', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('before', '0') });
    const registry = new Registry();
    const informer = newInformer({ registry });
    const events: string[] = [];
    informer.addHandlers({
      add: (o) => events.push(`add ${objectKey(o)}`),
      update: (_old, o) => events.push(`update ${objectKey(o)} ${o.data?.value}`),
      delete: (o) => events.push(`delete ${objectKey(o)}`),
    });
    expect(informer.hasSynced()).toBe(false);
    informer.start();
    await informer.waitForSync();
    expect(events).toEqual([`add ${NS}/before`]);

    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('a', '1') });
    await until('add a', () => informer.get(`${NS}/a`) !== undefined);
    await core.replaceNamespacedConfigMap({ namespace: NS, name: 'a', body: configMap('a', '2') });
    await until('update a', () => informer.get(`${NS}/a`)?.data?.value === '2');
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'a' });
    await until('delete a', () => informer.get(`${NS}/a`) === undefined);
    expect(events).toEqual([`add ${NS}/before`, `add ${NS}/a`, `update ${NS}/a 2`, `delete ${NS}/a`]);

    const metrics = await registry.getSingleMetric('rpa_informer_last_event_age_seconds')?.get();
    const age = metrics?.values.find((v) => v.labels.resource === 'configmaps')?.value;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(5);
    await informer.stop();
  });

  it('gives update handlers every cached object on each resync', async () => {
    const informer = newInformer({ resyncPeriodMs: 300 });
    const resynced = new Set<string>();
    informer.addHandlers({ update: (old, o) => old === o && resynced.add(objectKey(o)) });
    informer.start();
    await informer.waitForSync();
    await until('a resync', () => resynced.has(`${NS}/before`), 3_000);
    await informer.stop();
  });

  it('replays the cache to handlers added after sync, and stops calling removed ones', async () => {
    const informer = newInformer();
    informer.start();
    await informer.waitForSync();
    const late: string[] = [];
    const remove = informer.addHandlers({ add: (o) => late.push(objectKey(o)) });
    expect(late).toEqual([`${NS}/before`]);
    remove();
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('after-removal', '1') });
    await until('cached', () => informer.get(`${NS}/after-removal`) !== undefined);
    expect(late).toEqual([`${NS}/before`]);
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'after-removal' });
    await until('gone', () => informer.get(`${NS}/after-removal`) === undefined);
    await informer.stop();
  });

  it('lists in pages and still holds every object', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('paged-1', '1') });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('paged-2', '2') });
    const informer = newInformer({ listPageSize: 1 });
    informer.start();
    await informer.waitForSync();
    expect(informer.list().map(objectKey).sort()).toEqual([`${NS}/before`, `${NS}/paged-1`, `${NS}/paged-2`]);
    // The watch resumes from the snapshot the pages formed.
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'paged-1' });
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'paged-2' });
    await until('deletes seen', () => informer.list().length === 1);
    await informer.stop();
  });

  it('converges after objects change while the watch is broken, resuming from its resourceVersion', async () => {
    // A long first backoff keeps the watch down while the objects change.
    const informer = newInformer({ backoffBaseMs: 3_000, backoffMaxMs: 3_000 });
    const deleted: string[] = [];
    informer.addHandlers({ delete: (o) => deleted.push(objectKey(o)) });
    for (const n of ['c1', 'c2', 'c3']) await core.createNamespacedConfigMap({ namespace: NS, body: configMap(n, 'old') });
    informer.start();
    await informer.waitForSync();
    await until('c3', () => informer.get(`${NS}/c3`) !== undefined);
    const oldUid = informer.get(`${NS}/c1`)?.metadata?.uid;

    informer.breakWatch();
    await sleep(50);
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'c1' });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('c1', 'recreated') });
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'c2' });
    await core.replaceNamespacedConfigMap({ namespace: NS, name: 'c3', body: configMap('c3', 'new') });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('c4', 'new') });
    // Still in backoff: nothing seen yet, so convergence below is the resumed watch's doing.
    expect(informer.get(`${NS}/c4`)).toBeUndefined();

    await until('convergence', () => informer.get(`${NS}/c4`) !== undefined && informer.get(`${NS}/c3`)?.data?.value === 'new');
    expect(informer.get(`${NS}/c1`)?.data?.value).toBe('recreated');
    expect(informer.get(`${NS}/c1`)?.metadata?.uid).not.toBe(oldUid);
    expect(informer.get(`${NS}/c2`)).toBeUndefined();
    // The deletion of the old c1 was seen, not just its replacement.
    expect(deleted).toEqual([`${NS}/c1`, `${NS}/c2`]);
    expect(informer.listCount).toBe(1);
    await informer.stop();
  });
});
