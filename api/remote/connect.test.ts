import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { JobResult } from '../../core/job.js';
import { type ClientMessageInput, PROTOCOL_VERSION, type ServerMessage, serverMessage } from '../../core/protocol.js';
import { queueName } from '../../core/queue.js';
import { PresenceStore } from '../../dataplane/presence.js';
import { newJoinToken, robotTokenSecret } from '../../operator/controllers/robot-objects.js';
import { testApi } from '../../test/helpers/api.js';
import { createRobot, startClusterWithCrds, type TestCluster } from '../../test/helpers/cluster.js';
import { chain, eventually, payload, testDataPlane } from '../../test/helpers/dataplane.js';
import { remoteRobotsRoutes } from './routes.js';

// Short locks so expiry and hand-over happen within a test.
const settings = testDataPlane({ lockDurationMs: 2_000, stalledIntervalMs: 500, heartbeatIntervalMs: 500 });
const ROBOT = 'desk';
const TOKEN = newJoinToken();
let tc: TestCluster;
let api: Awaited<ReturnType<typeof testApi>>;
let url = '';
const clients: TestMachine[] = [];

/** A machine speaking the protocol by hand over a real socket, so each message is the test's choice. */
class TestMachine {
  readonly inbox: ServerMessage[] = [];
  closed?: { code: number; reason: string };
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(token: string | undefined, readonly id = `m-${Math.random().toString(36).slice(2, 8)}`) {
    this.ws = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('message', (d) => this.inbox.push(serverMessage.parse(JSON.parse(String(d)))));
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    clients.push(this);
  }

  send(m: ClientMessageInput | string): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  hello(robot = ROBOT, concurrency = 1): void {
    this.send({ v: 1, type: 'hello', robot: { namespace: 'default', name: robot }, machine: { id: this.id, hostname: 'test-host', pid: 1 }, os: { platform: 'linux', release: 'x', arch: 'x64' }, concurrency });
  }

  heartbeat(running: string[]): void {
    this.send({ v: 1, type: 'heartbeat', running, cpu: { percent: 1, cores: 2 }, memory: { rssBytes: 1, heapUsedBytes: 1, totalBytes: 2, freeBytes: 1 } });
  }

  async next<T extends ServerMessage['type']>(type: T, timeoutMs = 10_000): Promise<Extract<ServerMessage, { type: T }>> {
    return eventually(
      async () => {
        const i = this.inbox.findIndex((m) => m.type === type);
        return i < 0 ? undefined : (this.inbox.splice(i, 1)[0] as Extract<ServerMessage, { type: T }>);
      },
      timeoutMs,
      `${type} for ${this.id}`,
    );
  }

  async closedWith(timeoutMs = 10_000): Promise<number> {
    return (await eventually(async () => this.closed, timeoutMs, `close of ${this.id}`)).code;
  }

  async join(): Promise<this> {
    await this.opened;
    this.hello();
    await this.next('welcome');
    return this;
  }
}

const wf = chain([
  { id: 'a', type: 'set', params: { variables: { x: 1 } } },
  { id: 'b', type: 'set', params: { variables: { y: 2 } } },
]);
const queue = queueName('default', ROBOT);

function resultFor(robotId: string, status: JobResult['status'] = 'succeeded'): JobResult {
  const now = new Date().toISOString();
  return { status, variables: { x: 1, y: 2 }, nodes: [], startedAt: now, finishedAt: now, durationMs: 1, robot: { id: robotId, name: ROBOT } };
}

beforeAll(async () => {
  tc = await startClusterWithCrds();
  const uid = await createRobot(tc.kc, ROBOT, { mode: 'remote' });
  const core = tc.kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedSecret({ namespace: 'default', body: robotTokenSecret({ name: ROBOT, namespace: 'default', uid }, TOKEN, undefined) });
  // A pod Robot with a token Secret of the right shape is still not joinable.
  const podUid = await createRobot(tc.kc, 'podbot', { mode: 'pods' });
  await core.createNamespacedSecret({ namespace: 'default', body: robotTokenSecret({ name: 'podbot', namespace: 'default', uid: podUid }, TOKEN, undefined) });
  api = await testApi(settings, { kc: tc.kc, options: { routes: [remoteRobotsRoutes] } });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  url = `ws://127.0.0.1:${(api.app.server.address() as AddressInfo).port}/api/v1/robots/connect`;
});

afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  await api?.close();
  await tc?.stop();
});

describe('remote robots at /api/v1/robots/connect', () => {
  it('welcomes a machine with its token, assigns it a job, renews the lock while heartbeats come and records its result', async () => {
    const m = await new TestMachine(TOKEN).join();
    const presence = new PresenceStore(api.deps.redis, settings);
    const listed = await eventually(async () => (await presence.list({ robot: ROBOT })).find((p) => p.id === m.id), 5_000, 'presence');
    expect(listed).toMatchObject({ mode: 'remote', namespace: 'default', host: 'test-host', concurrency: 1 });

    const { id } = await api.deps.jobs.submit({ queue, payload: payload(wf) });
    const assign = await m.next('job.assign');
    expect(assign).toMatchObject({ jobId: id, attempt: 1 });
    expect(assign.checkpoint).toBeUndefined();
    // Three lock durations with heartbeats: the job stays this machine's.
    for (let i = 0; i < 12; i++) {
      m.heartbeat([id]);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect((await api.deps.jobs.get(id))?.state).toBe('running');
    expect(m.inbox.filter((x) => x.type === 'job.cancel')).toEqual([]);
    m.send({ v: 1, type: 'job.log', jobId: id, at: new Date().toISOString(), level: 'info', nodeId: 'a', message: 'hello from afar' });
    m.send({ v: 1, type: 'job.result', jobId: id, result: resultFor(m.id) });
    const view = await api.deps.jobs.waitFor(id, { timeoutMs: 10_000 });
    expect(view.state).toBe('succeeded');
    expect(view.result?.robot?.id).toBe(m.id);
    expect((await api.deps.jobs.logs(id))?.join('\n')).toContain('hello from afar');

    const metrics = await api.deps.registry.metrics();
    expect(metrics).toMatch(/rpa_api_remote_robots_connected\{namespace="default",robot="desk"\} 1/);
    expect(metrics).toMatch(/rpa_api_websocket_messages_total\{direction="in",type="hello"\} \d+/);
    expect(metrics).toMatch(/rpa_api_websocket_messages_total\{direction="out",type="job.assign"\} \d+/);
    m.ws.close();
    await m.closedWith();
  });

  it('lets an expired lock go to another machine with the checkpoint, and adopts a job back after a quick reconnect', async () => {
    const first = await new TestMachine(TOKEN, 'crashy').join();
    const { id } = await api.deps.jobs.submit({ queue, payload: payload(wf) });
    const assign = await first.next('job.assign');
    expect(assign.jobId).toBe(id);
    const cp = { v: 1 as const, variables: { x: 1 }, finished: ['start', 'a'], cursor: { node: 'b' }, steps: 2, nodes: [] };
    first.send({ v: 1, type: 'job.checkpoint', jobId: id, checkpoint: cp });
    first.heartbeat([id]);
    await new Promise((r) => setTimeout(r, 200));
    first.ws.terminate();

    // Quick reconnect of the same machine: its heartbeat adopts the job and its result counts.
    const again = await new TestMachine(TOKEN, 'crashy').join();
    again.heartbeat([id]);
    await new Promise((r) => setTimeout(r, 300));
    expect(again.inbox.filter((x) => x.type === 'job.cancel')).toEqual([]);
    again.ws.terminate();

    // Now nobody renews it: another machine gets it after the lock expires, resuming from the checkpoint.
    const second = await new TestMachine(TOKEN).join();
    const retaken = await second.next('job.assign', 15_000);
    expect(retaken).toMatchObject({ jobId: id, attempt: 2, checkpoint: cp });
    second.send({ v: 1, type: 'job.result', jobId: id, result: resultFor(second.id) });
    expect((await api.deps.jobs.waitFor(id, { timeoutMs: 10_000 })).result?.robot?.id).toBe(second.id);

    // The first machine coming back late is told the job is no longer its own.
    const late = await new TestMachine(TOKEN, 'crashy').join();
    late.send({ v: 1, type: 'job.result', jobId: id, result: resultFor('crashy', 'failed') });
    expect((await late.next('job.cancel')).jobId).toBe(id);
    expect((await api.deps.jobs.get(id))?.state).toBe('succeeded');
    second.ws.close();
    late.ws.close();
  });

  it('closes only the offending connection: bad or missing token, unknown or pod Robot, malformed and oversized messages', async () => {
    const good = await new TestMachine(TOKEN).join();
    const refused = [new TestMachine(newJoinToken()), new TestMachine(undefined), new TestMachine(TOKEN), new TestMachine(TOKEN)];
    await Promise.all(refused.map((c) => c.opened));
    refused[0]?.hello();
    refused[1]?.hello();
    refused[2]?.hello('nosuchrobot');
    refused[3]?.hello('podbot');
    for (const c of refused) {
      expect(await c.closedWith()).toBe(4401);
      expect(c.inbox).toEqual([]);
    }

    const notJson = await new TestMachine(TOKEN).join();
    notJson.send('{"v":1,"type":');
    const badShape = await new TestMachine(TOKEN).join();
    badShape.send({ v: 1, type: 'heartbeat', running: 'everything' } as unknown as ClientMessageInput);
    const noHello = new TestMachine(TOKEN);
    await noHello.opened;
    noHello.heartbeat([]);
    const tooBig = await new TestMachine(TOKEN).join();
    tooBig.send({ v: 1, type: 'job.log', jobId: 'x', at: 'now', level: 'info', message: 'x'.repeat(1024 * 1024 + 10) });
    expect(await notJson.closedWith()).toBe(4400);
    expect(await badShape.closedWith()).toBe(4400);
    expect(await noHello.closedWith()).toBe(4400);
    expect(await tooBig.closedWith()).toBe(1009);

    // The well-behaved machine never noticed.
    expect(good.closed).toBeUndefined();
    const { id } = await api.deps.jobs.submit({ queue, payload: payload(wf) });
    expect((await good.next('job.assign')).jobId).toBe(id);
    good.send({ v: 1, type: 'job.result', jobId: id, result: resultFor(good.id) });
    expect((await api.deps.jobs.waitFor(id, { timeoutMs: 10_000 })).state).toBe('succeeded');
    expect(await api.deps.registry.metrics()).toMatch(/rpa_api_websocket_messages_total\{direction="in",type="invalid"\} [1-9]/);
    good.ws.close();
  });

  it('relays a cancellation to the machine running the job', async () => {
    const m = await new TestMachine(TOKEN).join();
    const { id } = await api.deps.jobs.submit({ queue, payload: payload(wf) });
    await m.next('job.assign');
    expect(await api.deps.jobs.cancel(id, 'enough')).toBe('signalled');
    expect(await m.next('job.cancel')).toMatchObject({ v: PROTOCOL_VERSION, jobId: id, reason: 'enough' });
    m.send({ v: 1, type: 'job.result', jobId: id, result: { ...resultFor(m.id, 'cancelled'), error: { code: 'cancelled', message: 'enough' } } });
    expect((await api.deps.jobs.waitFor(id, { timeoutMs: 10_000 })).state).toBe('cancelled');
    m.ws.close();
  });

  it('spreads jobs over the connected machines of a Robot through one shared fetcher, never beyond their concurrency', async () => {
    const a = await new TestMachine(TOKEN).join();
    const b = await new TestMachine(TOKEN).join();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await api.deps.jobs.submit({ queue, payload: payload(wf) })).id);
    const first = [await a.next('job.assign'), await b.next('job.assign')];
    expect(new Set(first.map((m) => m.jobId)).size).toBe(2);
    // Both are full (concurrency 1): the third waits until one of them reports a result.
    await new Promise((r) => setTimeout(r, 500));
    expect([...a.inbox, ...b.inbox].filter((m) => m.type === 'job.assign')).toEqual([]);
    const aJob = first[0]?.jobId ?? '';
    a.send({ v: 1, type: 'job.result', jobId: aJob, result: resultFor(a.id) });
    const third = await a.next('job.assign');
    expect(ids).toContain(third.jobId);
    expect(first.map((m) => m.jobId)).not.toContain(third.jobId);
    b.send({ v: 1, type: 'job.result', jobId: first[1]?.jobId ?? '', result: resultFor(b.id) });
    a.send({ v: 1, type: 'job.result', jobId: third.jobId, result: resultFor(a.id) });
    for (const id of ids) await api.deps.jobs.waitFor(id, { timeoutMs: 10_000 });
    a.ws.close();
    b.ws.close();
  });
});
