import { describe, expect, it } from 'vitest';
import type { RobotPresence } from '../../core/presence.js';
import { robotSpec } from '../../core/robot.js';
import { robotStatus } from './robot-status.js';

const now = new Date('2026-11-23T10:00:00Z');
const spec = (over: Record<string, unknown> = {}) => robotSpec.parse({ jobsPerPod: 2, maxReplicas: 4, ...over });
const presence = (id: string, running: number, draining = false): RobotPresence => ({
  id,
  robot: 'r',
  namespace: 'default',
  mode: 'pod',
  host: 'h',
  pid: 1,
  version: '0',
  capabilities: [],
  concurrency: 2,
  runningJobs: Array.from({ length: running }, (_, i) => `${id}-j${i}`),
  draining,
  cpu: { percent: 0, cores: 2 },
  memory: { rssBytes: 0, heapUsedBytes: 0, totalBytes: 0, freeBytes: 0 },
  startedAt: now.toISOString(),
  lastHeartbeat: now.toISOString(),
});
const cond = (s: ReturnType<typeof robotStatus>, type: string) => s.conditions?.find((c) => c.type === type);
const decision = (desired: number) => ({ desired, reason: 'QueueDepth' as const, message: `${desired * 2} jobs`, jobsAtRisk: 0 });

describe('robotStatus', () => {
  it('reports an invalid spec as Stalled with the reason, and the scale selector', () => {
    const s = robotStatus({ name: 'r', generation: 3, previous: undefined, invalid: 'spec.minReplicas: must not exceed maxReplicas', presences: [] }, now);
    expect(cond(s, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec', message: 'spec.minReplicas: must not exceed maxReplicas', observedGeneration: 3 });
    expect(cond(s, 'Ready')?.status).toBe('False');
    expect(s.selector).toBe('rpa.dev/robot=r');
  });

  it('is Scaling until enough robots are up, then Available, with busy slots and queue', () => {
    const depth = { waiting: 3, active: 3, delayed: 1, failed: 0 };
    const scaling = robotStatus({ name: 'r', generation: 1, previous: undefined, spec: spec(), decision: decision(3), runtime: { replicas: 3, ready: 1 }, depth, presences: [presence('a', 2)] }, now);
    expect(scaling).toMatchObject({ desiredReplicas: 3, replicas: 3, readyReplicas: 1, busySlots: 2, queueDepth: 6, queue: depth, scaleReason: 'QueueDepth', jobsAtRisk: 0 });
    expect(cond(scaling, 'Ready')).toMatchObject({ status: 'False', reason: 'Scaling' });
    expect(cond(scaling, 'Reconciling')?.status).toBe('True');
    const later = new Date(now.getTime() + 60_000);
    const ok = robotStatus(
      { name: 'r', generation: 1, previous: scaling.conditions, spec: spec(), decision: decision(3), runtime: { replicas: 3, ready: 3 }, depth, presences: [presence('a', 2), presence('b', 1), presence('c', 0)] },
      later,
    );
    expect(cond(ok, 'Ready')).toMatchObject({ status: 'True', reason: 'Available', lastTransitionTime: later.toISOString() });
    expect(ok.busySlots).toBe(3);
  });

  it('counts draining robots as not ready and says ScaledToZero at zero', () => {
    const s = robotStatus({ name: 'r', generation: 1, previous: undefined, spec: spec(), decision: decision(0), runtime: { replicas: 0, ready: 0 }, presences: [presence('a', 1, true)] }, now);
    expect(s.readyReplicas).toBe(0);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
  });

  it('is Stalled when the runtime failed', () => {
    const s = robotStatus({ name: 'r', generation: 1, previous: undefined, spec: spec(), decision: decision(1), runtimeError: 'deployments.apps is forbidden', presences: [] }, now);
    expect(cond(s, 'Stalled')).toMatchObject({ status: 'True', reason: 'RuntimeError', message: 'deployments.apps is forbidden' });
  });

  it('reports connected machines for a remote Robot', () => {
    const none = robotStatus({ name: 'r', generation: 1, previous: undefined, spec: spec({ mode: 'remote' }), presences: [], tokenSecret: 'rpa-robot-r-token' }, now);
    expect(none.connectedMachines).toBe(0);
    expect(cond(none, 'Ready')).toMatchObject({ status: 'False', reason: 'WaitingForMachines' });
    expect(cond(none, 'Ready')?.message).toContain('rpa-robot-r-token');
    const two = robotStatus({ name: 'r', generation: 1, previous: none.conditions, spec: spec({ mode: 'remote' }), presences: [presence('m1', 1), presence('m2', 0)] }, now);
    expect(two).toMatchObject({ connectedMachines: 2, busySlots: 1 });
    expect(cond(two, 'Ready')).toMatchObject({ status: 'True', reason: 'Connected' });
    expect(two.desiredReplicas).toBeUndefined();
  });
});
