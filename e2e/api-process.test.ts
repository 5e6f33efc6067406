/**
 * `rpa api` as a real process on a real Redis and kube-apiserver: it starts from its environment,
 * answers probes, takes the bootstrap admin key and keys from the API keys Secret, and stops on SIGTERM.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../core/tokens.js';
import { startClusterWithCrds, type TestCluster } from '../test/helpers/cluster.js';
import { eventually, redisUrl, testDataPlane } from '../test/helpers/dataplane.js';
import { childEnv, RPA_BIN } from '../test/helpers/robot-process.js';

const settings = testDataPlane();
const ADMIN = 'bootstrap-admin-token-0123456789';
let tc: TestCluster;
let child: ChildProcess;
let base = '';

beforeAll(async () => {
  tc = await startClusterWithCrds();
  const env = childEnv(settings, redisUrl(), { RPA_ADMIN_TOKEN: ADMIN, RPA_API_NAMESPACE: 'default', KUBECONFIG: tc.cluster.kubeconfig });
  child = spawn(process.execPath, [RPA_BIN, 'api', '--port', '0', '--host', '127.0.0.1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`api did not start:\n${out}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /api listening on (http:\/\/\S+) /.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`api exited with ${code}:\n${out}`)));
  });
}, 900_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await tc?.stop();
});

const get = (path: string, token?: string) => fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('rpa api', () => {
  it('is ready once Redis and the Kubernetes API answer', async () => {
    const r = await get('/readyz');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok', checks: { redis: 'ok', kubernetes: 'ok' } });
  });

  it('takes the bootstrap admin key, and keys added to the Secret without a restart', async () => {
    expect(await (await get('/api/v1/whoami', ADMIN)).json()).toMatchObject({ name: 'bootstrap-admin', role: 'admin' });
    const viewerToken = 'rpak_e2e_viewer_token';
    expect((await get('/api/v1/whoami', viewerToken)).status).toBe(401);
    const core = tc.kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'rpa-api-keys' }, stringData: { grafana: JSON.stringify({ hash: tokenHash(viewerToken), role: 'viewer', namespaces: ['default'] }), broken: 'not json' } },
    });
    const me = await eventually(async () => {
      const r = await get('/api/v1/whoami', viewerToken);
      return r.status === 200 ? ((await r.json()) as unknown) : undefined;
    }, 10_000, 'key from the Secret accepted');
    expect(me).toEqual({ name: 'grafana', role: 'viewer', namespaces: ['default'] });
  });

  it('refuses a bad configuration naming the variable, and stops cleanly on SIGTERM', async () => {
    const bad = spawnSync(process.execPath, [RPA_BIN, 'api'], { env: { ...process.env, RPA_API_PORT: 'eighty' }, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--port / RPA_API_PORT');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
