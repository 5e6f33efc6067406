import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { remoteRobotsRoutes } from '../api/remote/routes.js';
import { queueName, keys } from '../core/queue.js';
import { PresenceStore } from '../dataplane/presence.js';
import { newJoinToken, robotTokenSecret } from '../operator/controllers/robot-objects.js';
import { testApi } from '../test/helpers/api.js';
import { createRobot, startClusterWithCrds, type TestCluster } from '../test/helpers/cluster.js';
import { chain, eventually, payload, testDataPlane } from '../test/helpers/dataplane.js';
import { HttpFixture } from '../test/helpers/http-fixture.js';
import { childEnv, type RobotProcess, spawnRobot, stopRobot } from '../test/helpers/robot-process.js';

// Short locks: a SIGKILLed machine's job is handed over within a few seconds.
const settings = testDataPlane({ lockDurationMs: 2_000, stalledIntervalMs: 500, heartbeatIntervalMs: 500 });
const ROBOT = 'office';
const TOKEN = newJoinToken();
const queue = queueName('default', ROBOT);
const http = new HttpFixture();
const robots: RobotProcess[] = [];
let tc: TestCluster;
let api: Awaited<ReturnType<typeof testApi>>;
let apiUrl = '';

const FORM = `<form onsubmit="document.getElementById('out').textContent='Thanks, '+document.getElementById('n').value;return false">
<input id=n><button id=go>Send</button></form><p id=out></p>`;

/** `rpa robot --api ... --token ...` as a real process, with no Redis URL of any use to it. */
function remoteRobot(id: string, token = TOKEN): Promise<RobotProcess> {
  const env = childEnv(settings, 'redis://127.0.0.1:1', { CHROMIUM_PATH: '/usr/bin/chromium', RPA_RECONNECT_INITIAL_MS: '100', RPA_RECONNECT_MAX_MS: '1000' });
  return spawnRobot(['--name', ROBOT, '--namespace', 'default', '--id', id, '--api', apiUrl, '--token', token], env).then((r) => {
    robots.push(r);
    return r;
  });
}

beforeAll(async () => {
  await http.start();
  http.page('/form', FORM);
  tc = await startClusterWithCrds();
  const uid = await createRobot(tc.kc, ROBOT, { mode: 'remote' });
  await tc.kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({ namespace: 'default', body: robotTokenSecret({ name: ROBOT, namespace: 'default', uid }, TOKEN, undefined) });
  api = await testApi(settings, { kc: tc.kc, options: { routes: [remoteRobotsRoutes] } });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(robots.map((r) => stopRobot(r, 'SIGKILL')));
  await api?.close();
  await tc?.stop();
  await http.stop();
});

describe('remote robots (real processes over the API WebSocket)', () => {
  it('runs a browser workflow on a remote robot and the result is visible through JobClient', async () => {
    const r = await remoteRobot('office-1');
    const wf = chain([
      { id: 'open', type: 'browser.open', params: { url: `${http.url}/form` } },
      { id: 'fill', type: 'browser.fill', params: { selector: '#n', value: '{{ customer }}' } },
      { id: 'submit', type: 'browser.click', params: { selector: '#go' } },
      { id: 'wait', type: 'browser.waitFor', params: { selector: "#out:has-text('Thanks')" } },
      { id: 'read', type: 'browser.extractText', params: { selector: '#out', saveAs: 'confirmation' } },
      { id: 'close', type: 'browser.close' },
    ]);
    const { id } = await api.deps.jobs.submit({ queue, payload: payload(wf, { variables: { customer: 'Ada Lovelace' } }) });
    await api.deps.jobs.waitFor(id, { timeoutMs: 45_000 });
    const view = await api.deps.jobs.get(id);
    expect(view?.state).toBe('succeeded');
    expect(view?.result?.variables.confirmation).toBe('Thanks, Ada Lovelace');
    expect(view?.result?.robot).toEqual({ id: 'office-1', name: ROBOT });
    expect(http.count('/form')).toBe(1);
    const presence = await new PresenceStore(api.deps.redis, settings).list({ robot: ROBOT });
    expect(presence.map((p) => [p.id, p.mode])).toEqual([['office-1', 'remote']]);
    await stopRobot(r);
  });

  it('finishes a job on a second remote robot from its checkpoint after the first is SIGKILLed mid-job', async () => {
    const first = await remoteRobot('office-k1');
    const wf = chain([
      { id: 'n1', type: 'http', params: { url: `${http.url}/k/1` } },
      { id: 'pause', type: 'wait', params: { ms: 4_000 } },
      { id: 'n2', type: 'http', params: { url: `${http.url}/k/2` } },
    ]);
    const { id } = await api.deps.jobs.submit({ queue, payload: payload(wf) });
    // n1 ran and its checkpoint is stored in Redis: the machine is inside the wait.
    await eventually(async () => ((await api.deps.redis.exists(keys.checkpoint(settings, queue, id))) === 1 ? true : undefined), 20_000, 'checkpoint after n1');
    expect(http.count('/k/1')).toBe(1);
    first.child.kill('SIGKILL');
    await first.exited;

    await remoteRobot('office-k2');
    const view = await api.deps.jobs.waitFor(id, { timeoutMs: 45_000 });
    expect(view.state).toBe('succeeded');
    expect(view.result?.robot?.id).toBe('office-k2');
    expect(view.result?.resumedAfter).toBe('n1');
    expect(http.count('/k/1')).toBe(1);
    expect(http.count('/k/2')).toBe(1);
    expect(view.result?.nodes.filter((n) => n.id === 'n1')).toHaveLength(1);
  });

  it('closes only the offending connection (bad token, malformed, oversized) while a connected robot keeps working', async () => {
    // office-k2 from the previous test is still connected and idle.
    const refused = await remoteRobot('office-bad', newJoinToken()).catch((err: Error) => err);
    expect(refused).toBeInstanceOf(Error);
    expect(String(refused)).toMatch(/refused the join token/);

    const url = `${apiUrl.replace('http', 'ws')}/api/v1/robots/connect`;
    const hello = JSON.stringify({ v: 1, type: 'hello', robot: { namespace: 'default', name: ROBOT }, machine: { id: 'raw', hostname: 'h', pid: 1 }, os: { platform: 'linux', release: 'x', arch: 'x64' }, concurrency: 1 });
    const closeCode = async (after: string[]): Promise<number> => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(hello);
      await new Promise((resolve) => ws.once('message', resolve));
      for (const frame of after) ws.send(frame);
      return closed;
    };
    expect(await closeCode(['not json at all'])).toBe(4400);
    expect(await closeCode([JSON.stringify({ v: 1, type: 'job.result', jobId: 'x', result: { status: 'maybe' } })])).toBe(4400);
    expect(await closeCode(['x'.repeat(1024 * 1024 + 1)])).toBe(1009);

    const { id } = await api.deps.jobs.submit({ queue, payload: payload(chain([{ id: 'ping', type: 'http', params: { url: `${http.url}/still-here` } }])) });
    const view = await api.deps.jobs.waitFor(id, { timeoutMs: 30_000 });
    expect(view.state).toBe('succeeded');
    expect(view.result?.robot?.id).toBe('office-k2');
  });
});
