import { describe, it, expect } from 'vitest';
import { pickRobot, robotLoad, type RobotCandidate } from './pick-robot.js';

const robot = (name: string, capabilities: string[], waiting: number, active: number, capacity: number): RobotCandidate => ({
  name,
  capabilities,
  waiting,
  active,
  capacity,
});

const fleet = [
  robot('web-a', ['browser', 'pdf'], 4, 2, 4),
  robot('web-b', ['browser'], 1, 1, 4),
  robot('sap', ['sap-gui'], 0, 0, 2),
];

describe('pickRobot by name', () => {
  it('picks the named robot regardless of load', () => {
    expect(pickRobot({ name: 'web-a' }, fleet)).toMatchObject({ ok: true, robot: 'web-a' });
  });
  it('errors on an unknown name', () => {
    const r = pickRobot({ name: 'nope' }, fleet);
    expect(r).toMatchObject({ ok: false, error: { code: 'UnknownRobot', name: 'nope' } });
  });
  it('errors when the named robot lacks a required capability', () => {
    const r = pickRobot({ name: 'web-b', capabilities: ['pdf'] }, fleet);
    expect(r).toMatchObject({ ok: false, error: { code: 'NoCapableRobot', missing: { 'web-b': ['pdf'] } } });
  });
});

describe('pickRobot by capabilities', () => {
  it('picks the least loaded robot having all capabilities', () => {
    expect(pickRobot({ capabilities: ['browser'] }, fleet)).toMatchObject({ ok: true, robot: 'web-b' });
    expect(pickRobot({ capabilities: ['browser', 'pdf'] }, fleet)).toMatchObject({ ok: true, robot: 'web-a' });
  });
  it('breaks ties by queue length, then by name', () => {
    // All three are at load 1 after the new job; a and b also have equal queues.
    const equal = [robot('b', ['x'], 1, 0, 2), robot('a', ['x'], 1, 0, 2), robot('c', ['x'], 3, 0, 4)];
    expect(equal.map(robotLoad)).toEqual([1, 1, 1]);
    expect(pickRobot({ capabilities: ['x'] }, equal)).toMatchObject({ robot: 'a' });
    expect(pickRobot({ capabilities: ['x'] }, [...equal].reverse())).toMatchObject({ robot: 'a' });
  });
  it('prefers a robot with capacity over one with none', () => {
    const r = pickRobot({ capabilities: ['x'] }, [robot('zero', ['x'], 0, 0, 0), robot('busy', ['x'], 9, 1, 2)]);
    expect(r).toMatchObject({ robot: 'busy' });
  });
  it('still picks a robot without capacity when it is the only one', () => {
    expect(pickRobot({ capabilities: ['x'] }, [robot('zero', ['x'], 0, 0, 0)])).toMatchObject({ ok: true, robot: 'zero' });
  });
  it('explains why nothing matched', () => {
    const r = pickRobot({ capabilities: ['browser', 'sap-gui'] }, fleet);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('NoCapableRobot');
    expect(r.error.message).toBe(
      'no robot has all of [browser, sap-gui]: sap lacks browser; web-a lacks sap-gui; web-b lacks sap-gui',
    );
  });
  it('says so when there are no robots at all', () => {
    const r = pickRobot({ capabilities: ['x'] }, []);
    expect(r).toMatchObject({ ok: false, error: { code: 'NoCapableRobot' } });
    if (!r.ok) expect(r.error.message).toContain('no robots exist');
  });
  it('rejects an empty selector', () => {
    expect(pickRobot({}, fleet)).toMatchObject({ ok: false, error: { code: 'InvalidSelector' } });
    expect(pickRobot({ capabilities: [] }, fleet)).toMatchObject({ ok: false, error: { code: 'InvalidSelector' } });
  });
});

describe('pickRobot affinity', () => {
  const pair = [robot('a', ['x'], 0, 1, 4), robot('b', ['x'], 0, 0, 4)];
  it('keeps the last robot when it is only slightly busier', () => {
    expect(pickRobot({ capabilities: ['x'] }, pair, { lastRobot: 'a' })).toMatchObject({ robot: 'a' });
  });
  it('moves away when the last robot is much busier', () => {
    expect(pickRobot({ capabilities: ['x'] }, pair, { lastRobot: 'a', affinityMaxLoadGap: 0.1 })).toMatchObject({ robot: 'b' });
  });
  it('ignores a last robot that no longer qualifies', () => {
    expect(pickRobot({ capabilities: ['x'] }, pair, { lastRobot: 'gone' })).toMatchObject({ robot: 'b' });
  });
});
