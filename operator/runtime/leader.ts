/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does it:
 * candidates poll the Lease every retry period and take it once it has not been renewed for a
 * lease duration; the leader renews it every retry period and steps down when it could not renew
 * for the renew deadline. Writes are optimistic (resourceVersion), so two candidates racing for an
 * expired Lease cannot both win.
 *
 * Expiry is judged against the local clock at which this process last saw the Lease change, never
 * against the renewTime written by another machine, so clock skew between replicas does not matter.
 */
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../core/logger.js';
import { apiStatus } from './api-errors.js';

export interface LeaderElectorOptions {
  namespace: string;
  /** Name of the Lease object. */
  name: string;
  /** This candidate's identity (pod name, hostname + pid...). */
  identity: string;
  /** How long a Lease not renewed stays with its holder. Default 15 s. */
  leaseDurationMs?: number;
  /** The leader steps down when it could not renew for this long. Default 10 s; below leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Interval between acquire or renew attempts. Default 2 s. */
  retryPeriodMs?: number;
  /** Clear holderIdentity on stop so a standby takes over at once. Default true. */
  releaseOnStop?: boolean;
  /** Runs when leadership is won; `signal` aborts when it is lost or the elector stops. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  onStoppedLeading?(): void;
  /** Called when the observed holder changes (including to this identity). */
  onNewLeader?(identity: string): void;
  logger?: Logger;
}

export const LEADER_DEFAULTS = { leaseDurationMs: 10_000, renewDeadlineMs: 7_000, retryPeriodMs: 1_000 } as const;

/** Retry periods get up to this fraction of extra random delay, as in client-go, to spread candidates. */
const JITTER_FACTOR = 1.2;

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class LeaderElector {
  private readonly api: k8s.CoordinationV1Api;
  private readonly timing: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  private leading = false;
  private stopped = true;
  private leadership: AbortController | undefined;
  /** The Lease as last read, and when (local monotonic clock) its content last changed. */
  private observed: { resourceVersion: string; holder: string } | undefined;
  private observedAt = 0;
  private lastRenewedAt = 0;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    kc: k8s.KubeConfig,
    private readonly options: LeaderElectorOptions,
  ) {
    this.api = kc.makeApiClient(k8s.CoordinationV1Api);
    this.timing = {
      leaseDurationMs: options.leaseDurationMs ?? LEADER_DEFAULTS.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs ?? LEADER_DEFAULTS.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs ?? LEADER_DEFAULTS.retryPeriodMs,
    };
    if (this.timing.renewDeadlineMs >= this.timing.leaseDurationMs) {
      throw new Error('leader election: renewDeadlineMs must be below leaseDurationMs');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops competing; a leader releases the Lease first unless `releaseOnStop` is false. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.leading && (this.options.releaseOnStop ?? true)) await this.release();
    this.stepDown();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // A hung request must not keep a leader from noticing its renew deadline passed.
      const ok = await withTimeout(this.tryAcquireOrRenew(), this.timing.renewDeadlineMs, false);
      const now = performance.now();
      if (ok) {
        this.lastRenewedAt = now;
        if (!this.leading) this.becomeLeader();
      } else if (this.leading && this.observed !== undefined && this.observed.holder !== this.options.identity) {
        this.options.logger?.warn({ lease: this.options.name, holder: this.observed.holder }, 'another candidate holds the lease; stepping down');
        this.stepDown();
      } else if (this.leading && now - this.lastRenewedAt > this.timing.renewDeadlineMs) {
        this.options.logger?.warn({ lease: this.options.name, identity: this.options.identity }, 'could not renew the lease within the renew deadline; stepping down');
        this.stepDown();
      }
      if (this.stopped) break;
      await this.sleep(this.timing.retryPeriodMs * (this.leading ? 1 : 1 + Math.random() * (JITTER_FACTOR - 1)));
    }
  }

  private becomeLeader(): void {
    this.leading = true;
    this.leadership = new AbortController();
    this.options.logger?.info({ lease: this.options.name, identity: this.options.identity }, 'became leader');
    const signal = this.leadership.signal;
    Promise.resolve()
      .then(() => this.options.onStartedLeading(signal))
      .catch((error: unknown) => this.options.logger?.error({ err: error, lease: this.options.name }, 'onStartedLeading failed'));
  }

  private stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.leadership?.abort();
    this.leadership = undefined;
    this.options.onStoppedLeading?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private leaseBody(previous: k8s.V1Lease | undefined, holder: string): k8s.V1Lease {
    const now = new k8s.V1MicroTime();
    const spec = previous?.spec ?? {};
    const changedHands = spec.holderIdentity !== holder;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.options.name, namespace: this.options.namespace, resourceVersion: previous?.metadata?.resourceVersion },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: Math.max(1, Math.ceil(this.timing.leaseDurationMs / 1000)),
        acquireTime: changedHands ? now : spec.acquireTime,
        renewTime: now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (changedHands && previous !== undefined && spec.holderIdentity ? 1 : 0),
      },
    };
  }

  /** One attempt; true when this candidate holds a freshly renewed Lease. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    let lease: k8s.V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name });
    } catch (error) {
      if (apiStatus(error) !== 404) return this.failed(error, 'read');
      try {
        const created = await this.api.createNamespacedLease({ namespace, body: this.leaseBody(undefined, identity) });
        this.observe(created);
        return true;
      } catch (createError) {
        return this.failed(createError, 'create');
      }
    }
    this.observe(lease);
    const holder = lease.spec?.holderIdentity ?? '';
    const expired = performance.now() - this.observedAt > this.timing.leaseDurationMs;
    if (holder !== '' && holder !== identity && !expired) return false;
    try {
      const updated = await this.api.replaceNamespacedLease({ namespace, name, body: this.leaseBody(lease, identity) });
      this.observe(updated);
      return true;
    } catch (error) {
      return this.failed(error, 'update');
    }
  }

  private observe(lease: k8s.V1Lease): void {
    const record = {
      resourceVersion: lease.metadata?.resourceVersion ?? '',
      holder: lease.spec?.holderIdentity ?? '',
    };
    const o = this.observed;
    // Every write changes resourceVersion, so a renewal by the holder is a change here.
    if (o === undefined || o.holder !== record.holder || o.resourceVersion !== record.resourceVersion) {
      if (o?.holder !== record.holder && record.holder !== '') this.options.onNewLeader?.(record.holder);
      this.observedAt = performance.now();
    }
    this.observed = record;
  }

  private failed(error: unknown, what: string): false {
    // 409 is a lost race for the Lease: expected, not worth a warning.
    if (apiStatus(error) !== 409) this.options.logger?.warn({ err: error, lease: this.options.name }, `lease ${what} failed`);
    return false;
  }

  /** Hands the Lease back: empty holder and a 1 s duration, as client-go's ReleaseOnCancel does. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    try {
      const lease = await this.api.readNamespacedLease({ namespace, name });
      if (lease.spec?.holderIdentity !== identity) return;
      const body = this.leaseBody(lease, identity);
      body.spec = { ...body.spec, holderIdentity: undefined, leaseDurationSeconds: 1 };
      await this.api.replaceNamespacedLease({ namespace, name, body });
    } catch (error) {
      this.failed(error, 'release');
    }
  }
}
