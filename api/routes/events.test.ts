import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { compareStreamIds, eventFilter, type LiveMessage, presenceChanges } from '../../core/api-events.js';
import type { RobotPresence } from '../../core/presence.js';
import type { ProgressEvent } from '../../core/events.js';
import { EventLog } from '../../dataplane/events.js';
import type { RobotAgent } from '../../robot/agent.js';
import { auth, TEST_KEYS, testApi } from '../../test/helpers/api.js';
import { chain, eventually, payload, startAgent, testDataPlane } from '../../test/helpers/dataplane.js';
import { StaticKeyStore } from '../auth/keys.js';
import { eventsRoutesWith } from './events.js';

const settings = testDataPlane({ heartbeatIntervalMs: 300 });
// Big enough for a burst of one read, far smaller than what the stalled clients are sent.
const MAX_BUFFERED = 256 * 1024;
let api: Awaited<ReturnType<typeof testApi>>;
let base = '';
const agents: RobotAgent[] = [];
const sockets: WebSocket[] = [];
const responses: IncomingMessage[] = [];

beforeAll(async () => {
  api = await testApi(settings, { options: { routes: [eventsRoutesWith({ presencePollMs: 200, maxBufferedBytes: MAX_BUFFERED, keyRecheckMs: 300 })] } });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  base = `127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const res of responses.splice(0)) res.destroy();
  await Promise.all(agents.splice(0).map((a) => a.stop(200)));
});
afterAll(async () => api?.close());

async function agent(overrides: Parameters<typeof startAgent>[1] = {}) {
  const a = await startAgent(settings, overrides);
  agents.push(a);
  return a;
}

interface WsClient {
  ws: WebSocket;
  messages: LiveMessage[];
  closed: Promise<{ code: number; reason: string }>;
}

/** A WebSocket on the feed, resolved once the server says it is subscribed. */
function openWs(query: string, headers: Record<string, string> = auth('viewer')): Promise<WsClient> {
  const ws = new WebSocket(`ws://${base}/api/v1/events${query}`, { headers });
  sockets.push(ws);
  const messages: LiveMessage[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as LiveMessage;
      messages.push(m);
      if (m.type === 'ready') resolve({ ws, messages, closed });
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

/** The HTTP status a refused upgrade answers with. */
function wsRefusal(query: string, headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(`ws://${base}/api/v1/events${query}`, { headers });
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => reject(new Error('upgraded')));
    ws.on('error', () => undefined);
  });
}

interface SseClient {
  res: IncomingMessage;
  frames: Array<{ id?: string; event?: string; retry?: string; data?: LiveMessage }>;
  ended: Promise<void>;
}

function openSse(query: string, headers: Record<string, string> = auth('viewer'), opts: { waitReady?: boolean } = {}): Promise<SseClient & { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(`http://${base}/api/v1/events${query}`, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      responses.push(res);
      res.setEncoding('utf8');
      const frames: SseClient['frames'] = [];
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      let buf = '';
      let body = '';
      let ready = false;
      const done = () => resolve({ res, frames, ended, status: res.statusCode ?? 0, body });
      res.on('error', () => undefined);
      res.on('data', (chunk: string) => {
        body += chunk;
        buf += chunk;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const frame: SseClient['frames'][number] = {};
          for (const line of buf.slice(0, cut).split('\n')) {
            const [field, ...rest] = line.split(': ');
            const value = rest.join(': ');
            if (field === 'id' || field === 'event' || field === 'retry') frame[field] = value;
            if (field === 'data') frame.data = JSON.parse(value) as LiveMessage;
          }
          buf = buf.slice(cut + 2);
          frames.push(frame);
          if (frame.event === 'ready' && !ready) {
            ready = true;
            done();
          }
        }
      });
      if (res.statusCode !== 200 || opts.waitReady === false) res.on('end', done);
    }).on('error', reject);
  });
}

const progressOf = (messages: readonly (LiveMessage | undefined)[], jobId: string) =>
  messages.flatMap((m) => (m?.type === 'progress' && m.jobId === jobId ? [m] : []));
const label = (e: ProgressEvent) => `${e.type}${'nodeId' in e ? `:${e.nodeId}` : ''}`;
const hasJobFinished = (messages: readonly (LiveMessage | undefined)[], jobId: string) => progressOf(messages, jobId).some((m) => m.event.type === 'job.finished');

describe('live events feed (real Redis, real robots, real sockets)', () => {
  it('streams a job\'s state changes and node progress, and robot presence, over WebSocket and SSE', async () => {
    const ws = await openWs('');
    const sse = await openSse('');
    expect(sse.res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(sse.frames[0]?.retry).toBe('3000');
    const a = await agent();
    await eventually(async () => (ws.messages.some((m) => m.type === 'presence' && m.change === 'joined' && m.robotId === a.cfg.id) ? true : undefined), 5_000, 'joined');

    const wf = chain([
      { id: 'hello', type: 'log', params: { message: 'hi' } },
      { id: 'hold', type: 'wait', params: { ms: 200 } },
    ]);
    const { id } = await api.deps.jobs.submit({ queue: a.queue, payload: payload(wf) });
    await eventually(async () => (hasJobFinished(ws.messages, id) && hasJobFinished(sse.frames.map((f) => f.data), id) ? true : undefined), 10_000, 'job.finished on both');

    const expected = ['job.started', 'node.started:hello', 'node.finished:hello', 'node.started:hold', 'node.finished:hold', 'job.finished'];
    const viaWs = progressOf(ws.messages, id);
    expect(viaWs.map((m) => label(m.event))).toEqual(expected);
    expect(viaWs.map((m) => m.state).filter(Boolean)).toEqual(['running', 'succeeded']);
    expect(viaWs[0]).toMatchObject({ namespace: 'default', robot: 'bot', jobId: id, id: expect.stringMatching(/^\d+-\d+$/) });
    const sseFrames = sse.frames.filter((f) => f.data?.type === 'progress' && f.data.jobId === id);
    expect(sseFrames.map((f) => f.event)).toEqual(expected.map(() => 'progress'));
    expect(sseFrames.map((f) => f.id)).toEqual(viaWs.map((m) => m.id));
    // Busy then idle again: runningJobs changes are reported, heartbeats alone are not.
    await eventually(async () => (ws.messages.filter((m) => m.type === 'presence' && m.change === 'changed').length >= 1 ? true : undefined), 5_000, 'changed');

    await a.stop(200);
    await eventually(async () => (ws.messages.some((m) => m.type === 'presence' && m.change === 'left' && m.robotId === a.cfg.id) ? true : undefined), 5_000, 'left');
  });

  it('filters by job, robot and namespace, and resumes SSE from Last-Event-ID', async () => {
    const everything = await openWs('');
    const onlyOne = await openWs('?job=filtered-1');
    const otherRobot = await openWs('?robot=someone-else');
    const teamA = await openWs('', auth('teamA'));
    expect(teamA.messages[0]).toEqual({ type: 'ready', namespaces: ['team-a'] });
    const tokenInQuery = await openWs(`?namespace=team-a&access_token=${TEST_KEYS.teamA.token}`, {});
    const a = await agent();
    const b = await agent({ namespace: 'team-a' });
    await api.deps.jobs.submit({ queue: a.queue, jobId: 'filtered-1', payload: payload(chain([])) });
    await api.deps.jobs.waitFor('filtered-1', { timeoutMs: 5_000 });
    // Past the robot's event flush, so the next job's events land in later stream entries.
    await new Promise((r) => setTimeout(r, 50));
    for (const [jobId, queue] of [['filtered-2', a.queue], ['filtered-3', b.queue]] as const) {
      await api.deps.jobs.submit({ queue, jobId, payload: payload(chain([])) });
    }
    await eventually(async () => (hasJobFinished(onlyOne.messages, 'filtered-1') && hasJobFinished(teamA.messages, 'filtered-3') && hasJobFinished(tokenInQuery.messages, 'filtered-3') ? true : undefined), 10_000, 'jobs');
    await api.deps.jobs.waitFor('filtered-2', { timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 300));

    expect(new Set(onlyOne.messages.slice(1).map((m) => (m.type === 'progress' ? m.jobId : m.type)))).toEqual(new Set(['filtered-1']));
    expect(otherRobot.messages.slice(1)).toEqual([]);
    for (const c of [teamA, tokenInQuery]) {
      expect(c.messages.slice(1).every((m) => m.type !== 'ready' && m.namespace === 'team-a')).toBe(true);
      expect(c.messages.some((m) => m.type === 'presence' && m.robotId === b.cfg.id)).toBe(true);
    }

    // Events written in one flush share a stream id: resuming after an id skips its whole entry.
    const resumeAt = progressOf(onlyOne.messages, 'filtered-1')[0]?.id ?? '0-0';
    const missed = everything.messages.flatMap((m) => (m.type === 'progress' && m.namespace === 'default' && m.robot === 'bot' && compareStreamIds(m.id, resumeAt) > 0 ? [m] : []));
    expect(hasJobFinished(missed, 'filtered-2')).toBe(true);
    const resumed = await openSse('?robot=bot&namespace=default', { ...auth('viewer'), 'last-event-id': resumeAt });
    const replayed = resumed.frames.filter((f) => f.data?.type === 'progress');
    expect(replayed.map((f) => f.data)).toEqual(missed);
    expect(replayed.map((f) => f.id)).toEqual(missed.map((m) => m.id));
  });

  it('answers 401 without a key and 403 for a namespace the key does not cover, before upgrading', async () => {
    expect(await wsRefusal('')).toBe(401);
    expect(await wsRefusal('?access_token=rpak_wrong')).toBe(401);
    expect(await wsRefusal('?namespace=default', auth('teamA'))).toBe(403);
    expect(await wsRefusal(`?namespace=default&access_token=${TEST_KEYS.teamA.token}`)).toBe(403);
    expect(await wsRefusal('?namespace=Not_A_Namespace', auth('viewer'))).toBe(400);
    const noKey = await openSse('', {});
    expect(noKey.status).toBe(401);
    expect(noKey.res.headers['www-authenticate']).toBe('Bearer realm="rpa"');
    expect(JSON.parse(noKey.body)).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('access_token') } });
    const wrongNs = await openSse('?namespace=default', auth('teamA'));
    expect(wrongNs.status).toBe(403);
    expect(JSON.parse(wrongNs.body).error.code).toBe('forbidden');
    const json = await api.app.inject({ method: 'GET', url: '/api/v1/events', headers: { ...auth('viewer'), accept: 'application/json' } });
    expect(json.statusCode).toBe(406);
    const doc = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/api/v1/events');
  });

  it('closes a WebSocket with 4401 once its key is revoked', async () => {
    const c = await openWs('');
    const keys = api.deps.keys;
    api.deps.keys = new StaticKeyStore(Object.values(TEST_KEYS).filter((k) => k.name !== TEST_KEYS.viewer.name));
    try {
      expect((await c.closed).code).toBe(4401);
    } finally {
      api.deps.keys = keys;
    }
  });

  it('drops a stalled consumer (WebSocket 1013, SSE ended) without holding back the others', async () => {
    const fast = await openWs('');
    const slowWs = await openWs('');
    const slowSse = await openSse('');
    slowWs.ws.pause();
    slowSse.res.pause();

    // Straight into the stream the robots write, paced so one read stays well under the client bound.
    const log = new EventLog(api.deps.redis, settings);
    const filler = 'x'.repeat(1024);
    const total = 4_000;
    for (let i = 0; i < total; i++) {
      log.publish({ type: 'node.failed', jobId: `flood-${i}`, queue: 'default.flood', robotId: 'flooder', at: new Date().toISOString(), nodeId: 'n', nodeType: 'http', durationMs: 1, error: filler, willRetry: false });
      if (i % 50 === 49) {
        await log.flush();
        await new Promise((r) => setTimeout(r, 15));
      }
    }
    await log.flush();
    await eventually(async () => (fast.messages.filter((m) => m.type === 'progress' && m.robot === 'flood').length === total ? true : undefined), 20_000, 'fast client got everything');

    const metrics = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/rpa_events_dropped_total\{transport="websocket",reason="slow"\} 1/);
    expect(metrics).toMatch(/rpa_events_dropped_total\{transport="sse",reason="slow"\} 1/);
    expect(fast.ws.readyState).toBe(WebSocket.OPEN);

    slowWs.ws.resume();
    expect((await slowWs.closed).code).toBe(1013);
    slowSse.res.resume();
    await slowSse.ended;
    // It got less than everything: its unsent frames were thrown away, not delivered late.
    expect(slowSse.frames.filter((f) => f.data?.type === 'progress').length).toBeLessThan(total);
  });
});

describe('live events decisions', () => {
  const presence = (id: string, extra: Partial<RobotPresence> = {}): RobotPresence => ({
    id, robot: 'bot', namespace: 'default', mode: 'local', host: 'h', pid: 1, version: 'v', capabilities: [], concurrency: 1, runningJobs: [], draining: false,
    cpu: { percent: 1, cores: 1 }, memory: { rssBytes: 1, heapUsedBytes: 1, totalBytes: 1, freeBytes: 1 }, startedAt: 's', lastHeartbeat: 'a', ...extra,
  });

  it('reports joined, left and changed instances, ignoring heartbeat-only differences', () => {
    const before = new Map([['a', presence('a')], ['b', presence('b')], ['c', presence('c')]]);
    const after = new Map([
      ['a', presence('a', { lastHeartbeat: 'b', cpu: { percent: 50, cores: 1 } })],
      ['b', presence('b', { runningJobs: ['j1'] })],
      ['d', presence('d')],
    ]);
    expect(presenceChanges(before, after).map((m) => `${m.change}:${m.robotId}`)).toEqual(['changed:b', 'joined:d', 'left:c']);
  });

  it('narrows a scoped key to its namespaces and refuses others', () => {
    const scoped = { name: 'k', role: 'viewer' as const, namespaces: ['team-a', 'team-b'] };
    expect(eventFilter(scoped, {})).toEqual({ filter: { namespaces: new Set(['team-a', 'team-b']) } });
    expect(eventFilter(scoped, { namespace: 'team-b', robot: 'r' })).toEqual({ filter: { robot: 'r', namespaces: new Set(['team-b']) } });
    expect(eventFilter(scoped, { namespace: 'default' })).toEqual({ forbidden: 'default' });
    expect(eventFilter({ ...scoped, namespaces: ['*'] }, { job: 'j' })).toEqual({ filter: { job: 'j' } });
  });

  it('orders stream ids numerically', () => {
    expect(compareStreamIds('9-1', '10-0')).toBe(-1);
    expect(compareStreamIds('10-10', '10-9')).toBe(1);
    expect(compareStreamIds('1700000000000-0', '1700000000000-0')).toBe(0);
  });
});
