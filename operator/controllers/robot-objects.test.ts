import { describe, expect, it } from 'vitest';
import { robotSpec } from '../../core/robot.js';
import { deploymentName, needsNewToken, newJoinToken, robotDeployment, robotTokenSecret, tokenHash } from './robot-objects.js';

const robot = { name: 'invoices', namespace: 'finance', uid: 'uid-1' };

describe('robotDeployment', () => {
  it('builds an owned Deployment that points robots at their queue and drains on rollout', () => {
    const spec = robotSpec.parse({ jobsPerPod: 3, capabilities: ['browser', 'excel'], env: [{ name: 'TZ', value: 'Europe/Berlin' }, { name: 'REDIS_URL', value: 'redis://evil' }] });
    const d = robotDeployment({ robot, spec, replicas: 2, redisUrlSecret: { name: 'rpa-redis', key: 'url' }, defaultImage: 'rpa-robot:0.1.0' });
    expect(d.metadata).toMatchObject({ name: 'rpa-robot-invoices', namespace: 'finance', ownerReferences: [{ kind: 'Robot', uid: 'uid-1', controller: true }] });
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    const c = d.spec.template.spec.containers[0];
    expect(c?.image).toBe('rpa-robot:0.1.0');
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, 'value' in e ? e.value : 'valueFrom' in e ? 'from' : undefined]));
    expect(env).toMatchObject({ RPA_ROBOT_NAME: 'invoices', RPA_NAMESPACE: 'finance', RPA_CONCURRENCY: '3', RPA_CAPABILITIES: 'browser,excel', TZ: 'Europe/Berlin', REDIS_URL: 'from', POD_NAME: 'from' });
    expect((c?.env ?? []).filter((e) => e.name === 'REDIS_URL')).toHaveLength(1);
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(120);
  });

  it('keeps names within Kubernetes limits', () => {
    expect(deploymentName('x'.repeat(80)).length).toBeLessThanOrEqual(63);
  });
});

describe('join tokens', () => {
  it('issues random tokens, stores their hash beside them, and rotates on a new annotation value', () => {
    const a = newJoinToken();
    expect(a).toMatch(/^rpat_[A-Za-z0-9_-]{43}$/);
    expect(newJoinToken()).not.toBe(a);
    const s = robotTokenSecret(robot, a, '2026-11-23');
    expect(s.stringData).toEqual({ token: a, tokenHash: tokenHash(a) });
    expect(tokenHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(needsNewToken(undefined, undefined, false)).toBe(true);
    expect(needsNewToken('2026-11-23', '2026-11-23', true)).toBe(false);
    expect(needsNewToken('2026-11-23', '2026-11-24', true)).toBe(true);
    expect(needsNewToken('', undefined, true)).toBe(false);
  });
});
