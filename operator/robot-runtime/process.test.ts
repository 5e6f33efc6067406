import { afterAll, describe, expect, it } from 'vitest';
import { robotSpec } from '../../core/robot.js';
import { PresenceStore } from '../../dataplane/presence.js';
import { eventually, newRedis, redisUrl, testDataPlane } from '../../test/helpers/dataplane.js';
import { ProcessRobotRuntime } from './process.js';

const settings = testDataPlane();
const redis = newRedis();
const runtime = new ProcessRobotRuntime({ redisUrl: redisUrl(), env: { RPA_QUEUE_PREFIX: settings.prefix, LOG_LEVEL: 'warn' } });
const presence = new PresenceStore(redis, settings);
const robot = { name: 'dev-bot', namespace: 'default', uid: 'u', spec: robotSpec.parse({ jobsPerPod: 2, capabilities: ['browser'] }) };

afterAll(async () => {
  await runtime.close();
  redis.disconnect();
});

describe('ProcessRobotRuntime', () => {
  it('runs as many robot processes as asked, and drains the surplus', async () => {
    expect(await runtime.apply(robot, 2)).toEqual({ replicas: 2, ready: 0 });
    await eventually(async () => (runtime.state(robot).ready === 2 ? true : undefined), 30_000, 'two ready robots');
    const live = await eventually(async () => {
      const l = await presence.list({ robot: 'dev-bot' });
      return l.length === 2 ? l : undefined;
    }, 10_000, 'two presences');
    expect(live.map((p) => p.concurrency)).toEqual([2, 2]);
    expect(live[0]?.capabilities).toEqual(['browser']);

    expect((await runtime.apply(robot, 1)).replicas).toBe(1);
    // The drained robot deregisters itself on the way out.
    await eventually(async () => ((await presence.list({ robot: 'dev-bot' })).length === 1 ? true : undefined), 15_000, 'one presence');
    await runtime.remove(robot);
    expect(runtime.state(robot)).toEqual({ replicas: 0, ready: 0 });
    expect(await presence.list({ robot: 'dev-bot' })).toEqual([]);
  });
});
