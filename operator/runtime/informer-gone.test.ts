/**
 * 410 Gone on a scripted API server (plain HTTP on 127.0.0.1): the real one cannot be made to
 * expire a resourceVersion on demand. The first watch gets an ERROR event with code 410, as a real
 * server sends it on a 200 stream; the informer must relist and report what changed meanwhile.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Informer } from './informer.js';

const cm = (name: string, rv: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: rv } });

let server: Server;
let kc: k8s.KubeConfig;
const lists: string[] = [];
const watches: string[] = [];
const openStreams = new Set<ServerResponse>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.setHeader('Content-Type', 'application/json');
    if (url.pathname === '/api/v1') {
      res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true, singularName: '', verbs: ['list', 'watch'] }] }));
      return;
    }
    if (url.pathname !== '/api/v1/namespaces/ns/configmaps') {
      res.statusCode = 404;
      res.end('{}');
      return;
    }
    if (url.searchParams.get('watch') !== 'true') {
      lists.push(url.pathname);
      const items = lists.length === 1 ? [cm('a', '10')] : [cm('b', '20')];
      res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: lists.length === 1 ? '10' : '20' }, items }));
      return;
    }
    const rv = url.searchParams.get('resourceVersion') ?? '';
    watches.push(rv);
    res.writeHead(200);
    if (rv === '10') {
      res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 10 (15)' } })}\n`);
      return;
    }
    // A live watch that stays open until the informer stops.
    openStreams.add(res);
    res.write(`${JSON.stringify({ type: 'ADDED', object: cm('c', '21') })}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'fake', token: 'test' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
});

afterAll(async () => {
  for (const res of openStreams) res.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('Informer on 410 Gone', () => {
  it('relists, reports the difference and watches again from the new resourceVersion', async () => {
    const informer = new Informer<k8s.V1ConfigMap>(kc, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespace: 'ns' });
    const events: string[] = [];
    informer.addHandlers({
      add: (o) => events.push(`add ${o.metadata?.name}`),
      delete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    informer.start();
    const deadline = Date.now() + 5_000;
    while (informer.get('ns/c') === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await informer.stop();
    expect(events).toEqual(['add a', 'delete a', 'add b', 'add c']);
    expect(informer.listCount).toBe(2);
    expect(watches).toEqual(['10', '20']);
    expect(informer.list().map((o) => o.metadata?.name).sort()).toEqual(['b', 'c']);
  });
});
