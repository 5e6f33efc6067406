import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../dataplane/events.js';
import { PresenceStore } from '../dataplane/presence.js';
import { HttpFixture } from '../test/helpers/http-fixture.js';
import { botQueue, chain, eventually, JobClient, newRedis, payload, redisUrl, testDataPlane } from '../test/helpers/dataplane.js';
import { childEnv, type RobotProcess, spawnRobot, stopRobot } from '../test/helpers/robot-process.js';

// Default lock (10 s) and stalled-check (5 s) settings: the point is the 15 s promise as shipped.
const settings = testDataPlane();
const redis = newRedis();
const client = new JobClient(redis, settings);
const http = new HttpFixture();
const robots: RobotProcess[] = [];

beforeAll(() => http.start());
afterAll(async () => {
  await Promise.all(robots.map((r) => stopRobot(r, 'SIGKILL')));
  await client.close();
  redis.disconnect();
  await http.stop();
});

describe('a robot killed with SIGKILL mid-job', () => {
  it('has its job finished by another robot without re-running finished nodes', async () => {
    const env = childEnv(settings, redisUrl());
    const first = await spawnRobot(['--name', 'crashy', '--id', 'crashy-1'], env);
    robots.push(first);
    const wf = chain([
      { id: 'n1', type: 'http', params: { url: `${http.url}/c/1` } },
      { id: 'n2', type: 'http', params: { url: `${http.url}/c/2` } },
      { id: 'n3', type: 'http', params: { url: `${http.url}/c/3?delayFirstMs={{ slow }}` } },
      { id: 'n4', type: 'http', params: { url: `${http.url}/c/4` } },
      { id: 'n5', type: 'http', params: { url: `${http.url}/c/5` } },
    ]);
    const { id } = await client.submit({ queue: botQueue('crashy'), payload: payload(wf, { variables: { slow: 30_000 } }) });
    // n3 is in flight: n1 and n2 are finished and checkpointed.
    await eventually(async () => (http.count('/c/3') === 1 ? true : undefined), 15_000, 'node n3 to start');
    const presence = new PresenceStore(redis, settings);
    expect((await presence.list()).find((p) => p.id === 'crashy-1')).toBeDefined();
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;

    const second = await spawnRobot(['--name', 'crashy', '--id', 'crashy-2'], env);
    robots.push(second);
    const view = await client.waitFor(id, { timeoutMs: 60_000 });
    const events = await new EventLog(redis, settings).read('0', { count: 10_000 });
    const retaken = events.find((e) => e.event.jobId === id && e.event.type === 'job.started' && e.event.robotId === 'crashy-2');
    const retakeMs = retaken ? Date.parse(retaken.event.at) - killedAt : NaN;
    process.stderr.write(`robot-crash: job taken again ${retakeMs} ms after SIGKILL\n`);

    expect(view.state).toBe('succeeded');
    expect(view.result?.robot?.id).toBe('crashy-2');
    expect(view.result?.resumedAfter).toBe('n2');
    expect(http.count('/c/1')).toBe(1);
    expect(http.count('/c/2')).toBe(1);
    // n3 was running when the robot died, so it runs again: at-least-once for the node in flight.
    expect(http.count('/c/3')).toBe(2);
    expect(http.count('/c/4')).toBe(1);
    expect(http.count('/c/5')).toBe(1);
    expect(retakeMs).toBeLessThan(20_000);
    // Nobody deregistered the dead robot: its presence simply expires.
    await eventually(async () => ((await presence.list()).some((p) => p.id === 'crashy-1') ? undefined : true), 20_000, 'presence to expire');
    expect((await presence.list()).map((p) => p.id)).toEqual(['crashy-2']);
  });
});
