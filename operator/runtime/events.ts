/**
 * Kubernetes Events for important transitions (scaled, job enqueued, schedule fired, token
 * rotated), so `kubectl describe` tells the story. Repeats of the same reason and message on the
 * same object within a window bump the count of one Event instead of creating new ones, as
 * client-go's event correlator does; recording never fails a reconcile.
 */
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../core/logger.js';

export interface EventTarget {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  record(target: EventTarget, type: EventType, reason: string, message: string): void;
}

/** Repeats inside this window are folded into one Event's count. */
const AGGREGATE_MS = 10 * 60_000;
const MAX_TRACKED = 4096;

interface Seen {
  name: string;
  namespace: string;
  count: number;
  at: number;
}

export class EventRecorder implements EventSink {
  private readonly core: k8s.CoreV1Api;
  private readonly seen = new Map<string, Seen>();
  private pending = Promise.resolve();

  constructor(
    kc: k8s.KubeConfig,
    private readonly component: string,
    private readonly host: string,
    private readonly logger?: Logger,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  record(target: EventTarget, type: EventType, reason: string, message: string): void {
    const namespace = target.metadata?.namespace ?? 'default';
    const name = target.metadata?.name;
    if (!name) return;
    // Writes are chained so a burst keeps its order and never opens a flood of connections.
    this.pending = this.pending.then(() => this.write(target, namespace, type, reason, message.slice(0, 1024))).catch((err: unknown) => {
      this.logger?.debug({ err, reason, object: `${namespace}/${name}` }, 'could not record event');
    });
  }

  /** Resolves once every event recorded so far has been written (or given up). */
  flush(): Promise<void> {
    return this.pending;
  }

  private async write(target: EventTarget, namespace: string, type: EventType, reason: string, message: string): Promise<void> {
    const key = `${target.metadata?.uid ?? ''}|${type}|${reason}|${message}`;
    const now = new Date();
    const prior = this.seen.get(key);
    if (prior && now.getTime() - prior.at < AGGREGATE_MS) {
      prior.count += 1;
      prior.at = now.getTime();
      try {
        await this.core.patchNamespacedEvent(
          { name: prior.name, namespace: prior.namespace, body: { count: prior.count, lastTimestamp: now.toISOString() } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        return;
      } catch {
        // The Event expired (the API server keeps them an hour): create a fresh one.
        this.seen.delete(key);
      }
    }
    const eventName = `${target.metadata?.name ?? 'object'}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: eventName, namespace },
        involvedObject: {
          apiVersion: target.apiVersion,
          kind: target.kind,
          name: target.metadata?.name,
          namespace,
          uid: target.metadata?.uid,
          resourceVersion: target.metadata?.resourceVersion,
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.component, host: this.host },
        reportingComponent: this.component,
        reportingInstance: this.host,
      },
    });
    if (this.seen.size >= MAX_TRACKED) this.seen.delete(this.seen.keys().next().value ?? '');
    this.seen.set(key, { name: eventName, namespace, count: 1, at: now.getTime() });
  }
}

/** For controllers run without a recorder (unit tests of the I/O half). */
export const NO_EVENTS: EventSink = { record() {} };
