import { describe, it, expect } from 'vitest';
import { deadlineCapacity, desiredReplicas, ScaleDownStabilizer, scaleDecision, warmupReplicas } from './desired-replicas.js';

const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1) + s * 1000);
const bounds = { jobsPerPod: 1, minReplicas: 0, maxReplicas: 10 };

describe('desiredReplicas', () => {
  it('is zero for an empty queue with minReplicas 0', () => {
    expect(desiredReplicas({ ...bounds, waiting: 0, active: 0 })).toBe(0);
  });
  it('counts waiting and active jobs', () => {
    expect(desiredReplicas({ ...bounds, waiting: 3, active: 2 })).toBe(5);
  });
  it('rounds up with jobsPerPod > 1', () => {
    expect(desiredReplicas({ ...bounds, jobsPerPod: 4, waiting: 20, active: 1 })).toBe(6);
    expect(desiredReplicas({ ...bounds, jobsPerPod: 4, waiting: 20, active: 0 })).toBe(5);
  });
  it('clamps to maxReplicas and minReplicas', () => {
    expect(desiredReplicas({ ...bounds, waiting: 50, active: 0 })).toBe(10);
    expect(desiredReplicas({ ...bounds, minReplicas: 2, waiting: 0, active: 0 })).toBe(2);
  });
});

describe('ScaleDownStabilizer', () => {
  it('scales up at once and down only after the window', () => {
    const s = new ScaleDownStabilizer(60);
    expect(s.recommend(2, at(0))).toBe(2);
    expect(s.recommend(5, at(10))).toBe(5);
    expect(s.recommend(1, at(20))).toBe(5);
    expect(s.recommend(1, at(69))).toBe(5);
    expect(s.recommend(1, at(71))).toBe(1);
  });
  it('steps down through the highest recent recommendation', () => {
    const s = new ScaleDownStabilizer(30);
    s.recommend(8, at(0));
    s.recommend(4, at(20));
    expect(s.recommend(0, at(31))).toBe(4);
    expect(s.recommend(0, at(51))).toBe(0);
  });
  it('does not stabilise with a zero window', () => {
    const s = new ScaleDownStabilizer(0);
    s.recommend(8, at(0));
    expect(s.recommend(1, at(0))).toBe(1);
  });
});

describe('deadlineCapacity', () => {
  it('needs nothing extra when every deadline is met', () => {
    const r = deadlineCapacity({ waiting: [{ deadline: at(600) }, {}], active: 0, currentSlots: 1, expectedJobSeconds: 60 }, at(0));
    expect(r).toEqual({ slotsNeeded: 1, extraSlots: 0, atRisk: 0, hopeless: 0 });
  });
  it('adds slots for jobs that would miss their deadline', () => {
    // Three jobs of 60 s due within 100 s on one busy slot: only parallel slots save them.
    const waiting = [{ deadline: at(100) }, { deadline: at(100) }, { deadline: at(100) }];
    const r = deadlineCapacity({ waiting, active: 1, currentSlots: 1, expectedJobSeconds: 60 }, at(0));
    expect(r.atRisk).toBe(3);
    expect(r.slotsNeeded).toBe(4);
    expect(r.extraSlots).toBe(3);
  });
  it('does not scale for jobs that cannot be saved, but reports them', () => {
    const r = deadlineCapacity({ waiting: [{ deadline: at(30) }], active: 0, currentSlots: 0, expectedJobSeconds: 60 }, at(0));
    expect(r).toEqual({ slotsNeeded: 0, extraSlots: 0, atRisk: 1, hopeless: 1 });
  });
});

describe('warmupReplicas', () => {
  it('wants a pod when a schedule fires within warmupSeconds', () => {
    expect(warmupReplicas({ nextFireTimes: [at(50)], warmupSeconds: 60, jobsPerPod: 1 }, at(0))).toBe(1);
    expect(warmupReplicas({ nextFireTimes: [at(61)], warmupSeconds: 60, jobsPerPod: 1 }, at(0))).toBe(0);
    expect(warmupReplicas({ nextFireTimes: [at(-1)], warmupSeconds: 60, jobsPerPod: 1 }, at(0))).toBe(0);
  });
  it('gives one slot per upcoming fire', () => {
    expect(warmupReplicas({ nextFireTimes: [at(10), at(20), at(30)], warmupSeconds: 60, jobsPerPod: 2 }, at(0))).toBe(2);
  });
});

describe('scaleDecision', () => {
  it('explains queue-depth scaling', () => {
    const d = scaleDecision({ ...bounds, jobsPerPod: 2, waiting: 5, active: 0 }, at(0));
    expect(d).toMatchObject({ desired: 3, reason: 'QueueDepth', jobsAtRisk: 0 });
    expect(d.message).toContain('3 replicas');
  });
  it('reports clamping', () => {
    expect(scaleDecision({ ...bounds, waiting: 50, active: 0 }, at(0)).reason).toBe('MaxReplicas');
    expect(scaleDecision({ ...bounds, minReplicas: 1, waiting: 0, active: 0 }, at(0))).toMatchObject({ desired: 1, reason: 'MinReplicas' });
  });
  it('warms a scaled-to-zero robot before a scheduled run', () => {
    const d = scaleDecision({ ...bounds, waiting: 0, active: 0, warmup: { nextFireTimes: [at(30)], warmupSeconds: 60 } }, at(0));
    expect(d).toMatchObject({ desired: 1, reason: 'Warmup' });
  });
  it('reports jobs at risk and caps deadline capacity at maxReplicas', () => {
    const jobs = [{ deadline: at(100) }, { deadline: at(100) }, { deadline: at(100) }];
    const d = scaleDecision(
      { ...bounds, maxReplicas: 2, waiting: 3, active: 0, readyReplicas: 1, deadlines: { jobs, expectedJobSeconds: 60 } },
      at(0),
    );
    expect(d.jobsAtRisk).toBe(2);
    expect(d).toMatchObject({ desired: 2, reason: 'MaxReplicas' });
  });
  it('holds replicas through the stabilisation window', () => {
    const stabilizer = new ScaleDownStabilizer(60);
    expect(scaleDecision({ ...bounds, waiting: 4, active: 0, stabilizer }, at(0)).desired).toBe(4);
    expect(scaleDecision({ ...bounds, waiting: 0, active: 0, stabilizer }, at(30))).toMatchObject({ desired: 4, reason: 'Stabilizing' });
    expect(scaleDecision({ ...bounds, waiting: 0, active: 0, stabilizer }, at(61)).desired).toBe(0);
  });
  it('applies a lowered maxReplicas without waiting for the window', () => {
    const stabilizer = new ScaleDownStabilizer(60);
    scaleDecision({ ...bounds, waiting: 8, active: 0, stabilizer }, at(0));
    expect(scaleDecision({ ...bounds, maxReplicas: 3, waiting: 8, active: 0, stabilizer }, at(1)).desired).toBe(3);
  });
});
