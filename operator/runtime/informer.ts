/**
 * List+watch of one resource into a local cache, with handlers. Written on `Watch` and
 * `KubernetesObjectApi` rather than client-node's `ListWatch` because, in 1.4, `ListWatch` stops for
 * good on any watch error other than 410 (no retry, no backoff) and has no resync.
 *
 * The loop: list (cache := list, handlers get the difference), then watch from the list's
 * resourceVersion; a watch that ends cleanly resumes from the last seen version; one that fails
 * resumes after exponential backoff with jitter; 410 Gone (the version fell out of the server's
 * window) goes back to the list. Handlers run synchronously and should only enqueue keys.
 */
import * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../../core/logger.js';
import { trackStaleness } from './informer-metrics.js';
import { apiStatus, describeApiError } from './api-errors.js';

export interface InformerHandlers<T extends k8s.KubernetesObject> {
  add?(obj: T): void;
  /** Also called for every cached object on each resync, with `oldObj === newObj`. */
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  /** e.g. `v1`, `apps/v1`, `rpa.dev/v1alpha1`. */
  apiVersion: string;
  kind: string;
  /** Lower-case plural of the resource, for the watch path (`configmaps`, `robots`). */
  plural: string;
  /** Watch one namespace; all namespaces when undefined. */
  namespace?: string;
  labelSelector?: string;
  /** Full resync period: update handlers see every cached object. Default 10 min; 0 disables. */
  resyncPeriodMs?: number;
  /** First delay after a failed list or watch. Default 200 ms. */
  backoffBaseMs?: number;
  /** Backoff ceiling. Default 30 s. */
  backoffMaxMs?: number;
  /** Server-side watch timeout, so connections are renewed even when silent. Default 300 s. */
  watchTimeoutSeconds?: number;
  /** Objects per list page. Default 500, as client-go's reflector. */
  listPageSize?: number;
  registry?: Registry;
  logger?: Logger;
}

export const INFORMER_DEFAULTS = { resyncPeriodMs: 600_000, backoffBaseMs: 200, backoffMaxMs: 30_000, watchTimeoutSeconds: 300, listPageSize: 500 } as const;

/** How long after its server-side timeout a watch that has not ended is considered dead. */
const WATCHDOG_GRACE_MS = 30_000;

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** `namespace/name`, or `name` for cluster-scoped objects: the work queue key. */
export function objectKey(obj: k8s.KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns === undefined || ns === '' ? name : `${ns}/${name}`;
}

/** Exponential backoff, jittered over the upper half of each step, so restarted operators do not stampede. */
export function backoffWithJitter(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

class GoneError extends Error {}

export class Informer<T extends k8s.KubernetesObject> {
  readonly resource: string;
  private readonly registry: Registry | undefined;
  private untrack: (() => void) | undefined;
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly objects: k8s.KubernetesObjectApi;
  private readonly watcher: k8s.Watch;
  private readonly opts: Required<Pick<InformerOptions, keyof typeof INFORMER_DEFAULTS>>;
  private readonly logger: Logger | undefined;
  private resourceVersion = '';
  private lists = 0;
  private synced = false;
  private stopped = true;
  private lastEventAt = performance.now();
  private request: AbortController | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  /** Set by breakWatch: client-node hands out a watch's AbortController only once headers arrived. */
  private broken = false;
  private loop: Promise<void> | undefined;

  constructor(
    kc: k8s.KubeConfig,
    private readonly options: InformerOptions,
  ) {
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    this.watcher = new k8s.Watch(kc);
    this.resource = options.apiVersion.includes('/') ? `${options.plural}.${options.apiVersion.split('/')[0]}` : options.plural;
    this.registry = options.registry;
    this.logger = options.logger;
    this.opts = {
      resyncPeriodMs: options.resyncPeriodMs ?? INFORMER_DEFAULTS.resyncPeriodMs,
      backoffBaseMs: options.backoffBaseMs ?? INFORMER_DEFAULTS.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs ?? INFORMER_DEFAULTS.backoffMaxMs,
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? INFORMER_DEFAULTS.watchTimeoutSeconds,
      listPageSize: options.listPageSize ?? INFORMER_DEFAULTS.listPageSize,
    };
  }

  /**
   * Registers handlers; returns their removal. As with client-go, handlers added after the first
   * list hear `add` for every cached object first, so a controller built late (a replica that
   * leads again after losing the Lease) misses nothing.
   */
  addHandlers(handlers: InformerHandlers<T>): () => void {
    this.handlers.push(handlers);
    if (this.synced) {
      for (const obj of this.cache.values()) this.call(handlers, 'add', obj);
    }
    return () => {
      const i = this.handlers.indexOf(handlers);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  /** True once the first list has filled the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** How many full lists ran: 1 after the first sync, one more per 410 Gone. */
  get listCount(): number {
    return this.lists;
  }

  lastEventAgeSeconds(): number {
    return (performance.now() - this.lastEventAt) / 1000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.registry !== undefined) this.untrack = trackStaleness(this.registry, this.resource, () => this.lastEventAgeSeconds());
    this.loop = this.run();
    if (this.opts.resyncPeriodMs > 0) this.resyncTimer = setInterval(() => this.resync(), this.opts.resyncPeriodMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.untrack?.();
    if (this.resyncTimer !== undefined) clearInterval(this.resyncTimer);
    this.request?.abort();
    this.wake?.();
    await this.loop;
  }

  /** Aborts the current watch connection as a network failure would (chaos tests, diagnostics). */
  breakWatch(): void {
    this.broken = true;
    this.request?.abort();
  }

  /** Resolves once the first list is in the cache, or rejects after `timeoutMs`. */
  async waitForSync(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.synced) {
      if (Date.now() > deadline) throw new Error(`informer ${this.resource} did not sync within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (this.resourceVersion === '') await this.relist();
        await this.watchOnce();
        failures = 0;
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof GoneError) {
          this.logger?.info({ resource: this.resource }, 'watch resourceVersion expired (410 Gone); relisting');
          this.resourceVersion = '';
          continue;
        }
        const delay = backoffWithJitter(failures, this.opts.backoffBaseMs, this.opts.backoffMaxMs);
        failures += 1;
        const detail = { resource: this.resource, error: describeApiError(error), delayMs: Math.round(delay) };
        // 429 is an API server still filling its caches (start-up, restart): expected, not a warning.
        if (apiStatus(error) === 429) this.logger?.info(detail, 'API server not ready yet; retrying');
        else this.logger?.warn(detail, 'list/watch failed; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** Replaces the cache with a fresh list; handlers see the difference, so missed events are recovered. */
  private async relist(): Promise<void> {
    const o = this.options;
    const fresh = new Map<string, T>();
    let resourceVersion = '';
    let continueToken: string | undefined;
    // In pages, as client-go's reflector does, so a large fleet never means one huge response; the
    // pages form one snapshot, and an expired continue token fails the relist, which is retried.
    do {
      const page = await this.objects.list<T>(o.apiVersion, o.kind, o.namespace, undefined, undefined, undefined, undefined, o.labelSelector, this.opts.listPageSize, continueToken);
      for (const item of page.items) {
        // List items come without apiVersion/kind; watch events carry them: keep both shapes alike.
        fresh.set(objectKey(item), { ...item, apiVersion: o.apiVersion, kind: o.kind });
      }
      resourceVersion = page.metadata?.resourceVersion ?? '';
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken !== undefined && !this.stopped);
    this.lastEventAt = performance.now();
    this.lists += 1;
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (old === undefined) this.emit('add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj, old);
    }
    this.resourceVersion = resourceVersion;
    this.synced = true;
  }

  /** One watch connection; resolves when the server ends it cleanly, rejects on error or 410. */
  private watchOnce(): Promise<void> {
    const o = this.options;
    const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
    const path = o.namespace === undefined ? `${base}/${o.plural}` : `${base}/namespaces/${o.namespace}/${o.plural}`;
    return new Promise<void>((resolve, reject) => {
      let gone = false;
      let failure: Error | undefined;
      const query = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.opts.watchTimeoutSeconds,
        labelSelector: o.labelSelector,
      };
      // client-node types the watched object as `any`; it is the resource or, for ERROR, a Status.
      const onEvent = (type: string, obj: unknown) => {
        this.lastEventAt = performance.now();
        if (type === 'ERROR') {
          // An expired version arrives as an ERROR event on an HTTP 200 stream, not as a 410 response.
          const status = obj as { code?: number; message?: string };
          if (status.code === 410) gone = true;
          else failure = new Error(`watch error ${status.code ?? '?'}: ${status.message ?? ''}`);
          this.request?.abort();
          return;
        }
        this.apply(type as WatchEventType, obj as T);
      };
      // client-node 1.4's Watch has no client-side timeout (its 30 s signal is overwritten), so a
      // dead connection would hang forever: past the server-side timeout plus a grace, break it.
      const watchdog = setTimeout(() => {
        this.broken = true;
        this.request?.abort();
      }, this.opts.watchTimeoutSeconds * 1000 + WATCHDOG_GRACE_MS);
      const onDone = (err: unknown) => {
        clearTimeout(watchdog);
        const broken = this.broken;
        this.broken = false;
        if (broken) reject(new Error('watch aborted by breakWatch'));
        else if (gone) reject(new GoneError('410 Gone'));
        else if (failure !== undefined) reject(failure);
        else if (err === null || err === undefined) resolve();
        else if ((err as { statusCode?: number }).statusCode === 410) reject(new GoneError('410 Gone'));
        else reject(err instanceof Error ? err : new Error(String(err)));
      };
      this.watcher.watch(path, query, onEvent, onDone).then(
        (controller) => {
          this.request = controller;
          // stop() or breakWatch() may have come while the request was being made.
          if (this.stopped || this.broken) controller.abort();
        },
        (error: unknown) => {
          clearTimeout(watchdog);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private apply(type: WatchEventType, obj: T): void {
    const version = obj.metadata?.resourceVersion;
    if (version !== undefined) this.resourceVersion = version;
    if (type === 'BOOKMARK') return;
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', obj);
      return;
    }
    this.cache.set(key, obj);
    if (old === undefined) this.emit('add', obj);
    else this.emit('update', obj, old);
  }

  private resync(): void {
    for (const obj of this.cache.values()) this.emit('update', obj, obj);
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    // A copy: a handler may remove itself (or others) while this runs.
    for (const h of [...this.handlers]) this.call(h, kind, obj, old);
  }

  private call(h: InformerHandlers<T>, kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    try {
      if (kind === 'add') h.add?.(obj);
      else if (kind === 'delete') h.delete?.(obj);
      else h.update?.(old ?? obj, obj);
    } catch (error) {
      this.logger?.error({ err: error, resource: this.resource, key: objectKey(obj) }, 'informer handler threw');
    }
  }
}
