/** Leader election against a real kube-apiserver (e2e/cluster), with short timings. */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../e2e/cluster/cluster.js';
import { startTestCluster } from '../../test/helpers/cluster.js';
import { LeaderElector, type LeaderElectorOptions } from './leader.js';

const NS = `leader-e2e-${process.pid}`;
const TIMING = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 1_000 };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
  return Date.now() - started;
}

let cluster: Cluster | undefined;
let kc: k8s.KubeConfig;
let coordination: k8s.CoordinationV1Api;
const electors: LeaderElector[] = [];

interface Candidate {
  elector: LeaderElector;
  log: string[];
  signal: () => AbortSignal | undefined;
}

function candidate(lease: string, identity: string, extra: Partial<LeaderElectorOptions> = {}): Candidate {
  const log: string[] = [];
  let signal: AbortSignal | undefined;
  const elector = new LeaderElector(kc, {
    namespace: NS,
    name: lease,
    identity,
    ...TIMING,
    onStartedLeading: (s) => {
      signal = s;
      log.push('started');
    },
    onStoppedLeading: () => log.push('stopped'),
    ...extra,
  });
  electors.push(elector);
  return { elector, log, signal: () => signal };
}

beforeAll(async () => {
  ({ cluster, kc } = await startTestCluster());
  coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
}, 900_000);

afterAll(async () => {
  await Promise.all(electors.map((e) => e.stop()));
  await cluster?.stop();
}, 120_000);

describe('LeaderElector (real kube-apiserver)', () => {
  it('rejects a renew deadline not below the lease duration', () => {
    expect(() => new LeaderElector(kc, { namespace: NS, name: 'x', identity: 'x', leaseDurationMs: 2_000, renewDeadlineMs: 2_000, onStartedLeading: () => {} })).toThrow(/renewDeadlineMs/);
  });

  it('elects exactly one of two candidates and fails over within lease duration + retry when the leader dies', async () => {
    // Without release, stop() is what a crash looks like to the other candidate.
    const a = candidate('failover', 'a', { releaseOnStop: false });
    const b = candidate('failover', 'b', { releaseOnStop: false });
    a.elector.start();
    b.elector.start();
    await until('a leader', () => a.elector.isLeader() || b.elector.isLeader(), 10_000);
    // Several retry periods: the follower keeps following while the leader renews.
    for (let i = 0; i < 25; i += 1) {
      expect(Number(a.elector.isLeader()) + Number(b.elector.isLeader())).toBe(1);
      await sleep(100);
    }
    const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a];
    const leaderId = leader === a ? 'a' : 'b';
    const lease = await coordination.readNamespacedLease({ namespace: NS, name: 'failover' });
    expect(lease.spec?.holderIdentity).toBe(leaderId);
    expect(lease.spec?.leaseDurationSeconds).toBe(4);

    // Death without release: the Lease still names the old leader until it expires.
    const stoppedAt = Date.now();
    await leader.elector.stop();
    expect(leader.log).toEqual(['started', 'stopped']);
    expect(leader.signal()?.aborted).toBe(true);
    const takeover = await until('the follower to lead', () => follower.elector.isLeader(), 10_000);
    const elapsed = Date.now() - stoppedAt;
    process.stderr.write(`leader e2e: failover without release took ${elapsed} ms (lease 4 s, retry 1 s)\n`);
    expect(takeover).toBeGreaterThan(TIMING.leaseDurationMs - TIMING.retryPeriodMs - 500);
    expect(elapsed).toBeLessThan(TIMING.leaseDurationMs + 2 * TIMING.retryPeriodMs + 500);
    const after = await coordination.readNamespacedLease({ namespace: NS, name: 'failover' });
    expect(after.spec?.holderIdentity).toBe(leader === a ? 'b' : 'a');
    expect(after.spec?.leaseTransitions).toBe(1);
    await follower.elector.stop();
  }, 60_000);

  it('hands over at once when the leader releases the Lease on stop', async () => {
    const a = candidate('release', 'a');
    a.elector.start();
    await until('a to lead', () => a.elector.isLeader(), 10_000);
    const b = candidate('release', 'b');
    b.elector.start();
    await sleep(1_500);
    expect(b.elector.isLeader()).toBe(false);
    await a.elector.stop();
    const released = await coordination.readNamespacedLease({ namespace: NS, name: 'release' });
    expect(released.spec?.holderIdentity ?? '').toBe('');
    const takeover = await until('b to lead', () => b.elector.isLeader(), 10_000);
    // Well under the 4 s lease: b takes it at its next retry.
    expect(takeover).toBeLessThan(TIMING.retryPeriodMs * 1.2 + 1_000);
    await b.elector.stop();
  }, 60_000);
});
