import { describe, expect, it } from 'vitest';
import { findCondition, readiness, setCondition } from './conditions.js';

const t1 = new Date('2026-11-23T10:00:00Z');
const t2 = new Date('2026-11-23T10:05:00Z');

describe('setCondition', () => {
  it('adds a condition, then keeps its transition time while the status holds', () => {
    const a = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting' }, t1, 1);
    expect(a).toEqual([{ type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting', lastTransitionTime: t1.toISOString(), observedGeneration: 1 }]);
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'StillPending', message: 'still' }, t2, 2);
    expect(b[0]).toMatchObject({ reason: 'StillPending', lastTransitionTime: t1.toISOString(), observedGeneration: 2 });
    const c = setCondition(b, { type: 'Ready', status: 'True', reason: 'Valid', message: 'ok' }, t2, 2);
    expect(c[0]?.lastTransitionTime).toBe(t2.toISOString());
    expect(a[0]?.reason).toBe('Pending');
  });

  it('keeps the order of other conditions', () => {
    const list = readiness(undefined, { ready: false, stalled: true, reason: 'InvalidSpec', message: 'bad' }, t1, 3);
    expect(list.map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=False', 'Reconciling=False', 'Stalled=True']);
    const fixed = readiness(list, { ready: true, reason: 'Valid', message: 'ok' }, t2, 4);
    expect(fixed.map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=True', 'Reconciling=False', 'Stalled=False']);
    expect(findCondition(fixed, 'Reconciling')?.lastTransitionTime).toBe(t1.toISOString());
  });
});
