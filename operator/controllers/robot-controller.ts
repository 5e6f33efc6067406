import * as k8s from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../core/logger.js';
import { jsonEqual } from '../../core/json-equal.js';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../../core/meta.js';
import type { RobotPresence } from '../../core/presence.js';
import { type DataPlaneSettings, queueName } from '../../core/queue.js';
import { type RobotSpec, type RobotStatus, robotSpec } from '../../core/robot.js';
import type { JobClient } from '../../dataplane/jobs.js';
import type { PresenceStore } from '../../dataplane/presence.js';
import { type EventSink, NO_EVENTS } from '../runtime/events.js';
import { objectKey } from '../runtime/informer.js';
import type { SharedInformers } from '../runtime/shared-informers.js';
import { type ReconcileResult, WorkQueue } from '../runtime/workqueue.js';
import type { RobotRuntime, RobotTarget, RuntimeState } from '../robot-runtime/types.js';
import { needsNewToken, newJoinToken, ROTATE_TOKEN_ANNOTATION, robotTokenSecret, tokenSecretName } from './robot-objects.js';
import { RobotScaler, type ScaleEvent, type ScaleExtras } from './robot-scaler.js';
import { robotStatus } from './robot-status.js';
import { isNotFound } from '../runtime/api-errors.js';
import { perRegistry } from '../../core/per-registry.js';
import { nullMissing } from '../status/merge-patch.js';

interface RobotObject extends k8s.KubernetesObject {
  spec?: unknown;
  status?: RobotStatus;
}

export interface RobotControllerDeps {
  runtime: RobotRuntime;
  client: JobClient;
  presence: PresenceStore;
  /** For queue counts; plus a dedicated connection for the blocking read of queue events. */
  redis: Redis;
  blockingRedis: Redis;
  settings: DataPlaneSettings;
}

export interface RobotControllerOptions {
  registry?: Registry;
  logger?: Logger;
  events?: EventSink;
  workers?: number;
  /** Next fire times of Schedules that target a Robot, for warm-up. */
  upcomingRuns?: (namespace: string, robot: { name: string; capabilities: readonly string[] }) => Date[];
  /** How often status (ready robots, busy slots, queue) is refreshed when nothing else happens. */
  statusIntervalMs?: number;
  /** Debounce of queue events before a scale decision. */
  debounceMs?: number;
  onScaled?: (e: ScaleEvent) => void;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const STATUS_INTERVAL_MS = 10_000;

const gaugesFor = perRegistry((registers) => ({
  desired: new Gauge({ name: 'rpa_robot_desired_replicas', help: 'Replicas the operator wants for a pod Robot', labelNames: ['namespace', 'robot'], registers }),
  ready: new Gauge({ name: 'rpa_robot_ready_replicas', help: 'Replicas of a pod Robot that are ready (robot processes for the process runtime)', labelNames: ['namespace', 'robot'], registers }),
  queue: new Gauge({ name: 'rpa_queue_jobs', help: 'Jobs in a Robot queue by state', labelNames: ['namespace', 'robot', 'state'], registers }),
}));

/**
 * Robots: a pod Robot's replicas follow its queue (RobotScaler, event-driven) plus warm-up for
 * Schedules and jobs at risk of missing their deadline; a remote Robot gets a join-token Secret,
 * re-issued when its rotation annotation changes. Status is refreshed on a timer and after every
 * scale, written only when it changed.
 */
export class RobotController {
  readonly scaler: RobotScaler;
  private readonly robots;
  private readonly queue: WorkQueue;
  private readonly detach: (() => void)[] = [];
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly events: EventSink;
  private readonly gauges;
  private readonly known = new Map<string, { name: string; namespace: string; mode: RobotSpec['mode'] | 'invalid' }>();

  constructor(
    kc: k8s.KubeConfig,
    informers: SharedInformers,
    private readonly deps: RobotControllerDeps,
    private readonly opts: RobotControllerOptions = {},
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.events = opts.events ?? NO_EVENTS;
    this.gauges = gaugesFor(opts.registry);
    this.robots = informers.for<RobotObject>({ apiVersion: API_GROUP_VERSION, kind: 'Robot', plural: 'robots' });
    this.queue = new WorkQueue({
      name: 'robot',
      reconcile: (key) => this.reconcile(key),
      workers: opts.workers ?? 2,
      ...(opts.registry ? { registry: opts.registry } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    this.scaler = new RobotScaler(deps.redis, deps.blockingRedis, deps.settings, deps.runtime, {
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
      onScaled: (e) => this.onScaled(e),
    });
    const enqueue = (o: RobotObject) => this.queue.add(objectKey(o));
    this.detach.push(this.robots.addHandlers({ add: enqueue, update: (_o, cur) => enqueue(cur), delete: enqueue }));
  }

  /** Call after the shared informers have synced. */
  start(): void {
    this.scaler.start();
    this.queue.start();
    // Robots deleted while no operator ran: nothing to do for pods (owner references collect the
    // Deployment), and a process runtime starts empty.
  }

  async stop(): Promise<void> {
    // Informers outlive controllers (a replica that loses the Lease builds new ones): let go of them.
    for (const detach of this.detach.splice(0)) detach();
    await this.queue.shutdown();
    await this.scaler.stop();
  }

  /** A Schedule changed in this namespace: Robots that warm up for Schedules plan again now. */
  pokeWarmups(namespace: string): void {
    for (const r of this.robots.list()) {
      const warmup = (r.spec as { warmupSeconds?: unknown } | undefined)?.warmupSeconds;
      if (r.metadata?.namespace === namespace && typeof warmup === 'number' && warmup > 0) this.queue.add(objectKey(r));
    }
  }

  private onScaled(e: ScaleEvent): void {
    const robot = this.robots.get(`${e.namespace}/${e.robot}`);
    if (robot) this.events.record(robot, 'Normal', 'Scaled', `Scaled to ${e.decision.desired} replicas: ${e.decision.message}`);
    this.gauges.desired.set({ namespace: e.namespace, robot: e.robot }, e.decision.desired);
    this.queue.add(`${e.namespace}/${e.robot}`);
  }

  private async reconcile(key: string): Promise<ReconcileResult> {
    const robot = this.robots.get(key);
    const name = robot?.metadata?.name;
    const namespace = robot?.metadata?.namespace;
    const uid = robot?.metadata?.uid;
    if (!robot || !name || !namespace || !uid || robot.metadata?.deletionTimestamp) {
      await this.forget(key);
      return;
    }
    const generation = robot.metadata?.generation ?? 0;
    const parsed = robotSpec.safeParse(robot.spec);
    if (!parsed.success) {
      await this.release(key, { name, namespace });
      this.known.set(key, { name, namespace, mode: 'invalid' });
      const invalid = parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
      await this.writeStatus(robot, robotStatus({ name, generation, previous: robot.status?.conditions, invalid, presences: [] }, new Date()));
      return;
    }
    const spec = parsed.data;
    const previousMode = this.known.get(key)?.mode;
    this.known.set(key, { name, namespace, mode: spec.mode });
    const target: RobotTarget = { name, namespace, uid, spec };
    const presences = await this.deps.presence.list({ namespace, robot: name });
    let requeueAfter = this.opts.statusIntervalMs ?? STATUS_INTERVAL_MS;

    if (spec.mode === 'remote') {
      if (previousMode === 'pods') await this.release(key, target);
      let tokenError: string | undefined;
      try {
        await this.ensureToken(robot, target);
      } catch (err) {
        tokenError = err instanceof Error ? err.message : String(err);
      }
      const depth = await this.deps.client.counts(queueName(namespace, name));
      this.setQueueGauges(target, depth);
      const status = robotStatus(
        { name, generation, previous: robot.status?.conditions, spec, depth, presences, tokenSecret: tokenSecretName(name), ...(tokenError ? { runtimeError: tokenError } : {}) },
        new Date(),
      );
      await this.writeStatus(robot, status);
      return { requeueAfter };
    }

    const runtime = await this.deps.runtime.state(target);
    const extras: ScaleExtras = { readyReplicas: runtime?.ready ?? 0 };
    if (spec.warmupSeconds > 0 && this.opts.upcomingRuns) {
      const fires = this.opts.upcomingRuns(namespace, { name, capabilities: spec.capabilities });
      extras.warmup = { nextFireTimes: fires, warmupSeconds: spec.warmupSeconds };
      // Look again when the next warm-up window opens, so the pod is up before the fire time.
      const opensIn = Math.min(...fires.map((d) => d.getTime() - spec.warmupSeconds * 1000 - Date.now()).filter((ms) => ms > 0));
      if (Number.isFinite(opensIn)) requeueAfter = Math.min(requeueAfter, opensIn + 50);
    }
    const before = this.scaler.state(target);
    if (before?.depth && before.depth.waiting > 0) {
      const facts = await this.deps.client.deadlineFacts(queueName(namespace, name));
      if (facts.expectedJobSeconds !== undefined && facts.deadlines.some((d) => d !== undefined)) {
        extras.deadlines = { jobs: facts.deadlines.map((deadline) => (deadline ? { deadline } : {})), expectedJobSeconds: facts.expectedJobSeconds };
      }
    }
    this.scaler.track(target, extras);
    // Robots that died (process runtime) or a Deployment edited by hand: apply the decision again.
    if (runtime && before?.applied !== undefined && runtime.replicas !== before.applied) this.scaler.reapply(target);
    await this.protectBusy(target, presences);

    const scaled = this.scaler.state(target);
    if (scaled?.depth) this.setQueueGauges(target, scaled.depth);
    if (scaled?.decision) this.gauges.desired.set({ namespace, robot: name }, scaled.decision.desired);
    this.gauges.ready.set({ namespace, robot: name }, runtime?.ready ?? 0);
    const status = robotStatus(
      {
        name,
        generation,
        previous: robot.status?.conditions,
        spec,
        presences,
        ...(scaled?.decision ? { decision: scaled.decision } : {}),
        ...(scaled?.depth ? { depth: scaled.depth } : {}),
        ...(scaled?.error ? { runtimeError: scaled.error } : {}),
        ...(runtime ? { runtime: withApplied(runtime, scaled?.applied) } : {}),
      },
      new Date(),
    );
    await this.writeStatus(robot, status);
    return { requeueAfter };
  }

  private async protectBusy(target: RobotTarget, presences: readonly RobotPresence[]): Promise<void> {
    if (!this.deps.runtime.protectBusyPods) return;
    const busy = new Map(presences.map((p) => [p.id, p.runningJobs.length] as const));
    try {
      await this.deps.runtime.protectBusyPods(target, busy);
    } catch (err) {
      this.opts.logger?.warn({ err, resource: `${target.namespace}/${target.name}` }, 'could not mark busy pods; scale-down may pick a busy one, which then drains');
    }
  }

  private async ensureToken(robot: RobotObject, target: RobotTarget): Promise<void> {
    const name = tokenSecretName(target.name);
    const wanted = robot.metadata?.annotations?.[ROTATE_TOKEN_ANNOTATION];
    let existing: k8s.V1Secret | undefined;
    try {
      existing = await this.core.readNamespacedSecret({ name, namespace: target.namespace });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const have = existing?.metadata?.annotations?.[ROTATE_TOKEN_ANNOTATION];
    if (!needsNewToken(have, wanted, existing !== undefined)) return;
    const body = robotTokenSecret(target, newJoinToken(), wanted) as k8s.V1Secret;
    if (existing) {
      body.metadata = { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion };
      await this.core.replaceNamespacedSecret({ name, namespace: target.namespace, body });
      this.events.record(robot, 'Normal', 'TokenRotated', `Issued a new join token in Secret ${name}; machines using the old one must rejoin`);
    } else {
      await this.core.createNamespacedSecret({ namespace: target.namespace, body });
      this.events.record(robot, 'Normal', 'TokenIssued', `Join token stored in Secret ${name}`);
    }
  }

  /** Stops robots of a Robot that became remote or invalid: its queue is served elsewhere now. */
  private async release(key: string, robot: { name: string; namespace: string }): Promise<void> {
    this.scaler.untrack(robot);
    if (this.known.get(key)?.mode === 'pods') await this.deps.runtime.remove(robot);
    this.gauges.desired.remove({ namespace: robot.namespace, robot: robot.name });
    this.gauges.ready.remove({ namespace: robot.namespace, robot: robot.name });
  }

  private async forget(key: string): Promise<void> {
    const known = this.known.get(key);
    if (!known) return;
    this.scaler.untrack(known);
    await this.deps.runtime.remove(known);
    this.known.delete(key);
    this.gauges.desired.remove({ namespace: known.namespace, robot: known.name });
    this.gauges.ready.remove({ namespace: known.namespace, robot: known.name });
    for (const state of ['waiting', 'active', 'delayed', 'failed']) this.gauges.queue.remove({ namespace: known.namespace, robot: known.name, state });
  }

  private setQueueGauges(t: { name: string; namespace: string }, depth: { waiting: number; active: number; delayed: number; failed: number }): void {
    for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) this.gauges.queue.set({ namespace: t.namespace, robot: t.name, state }, depth[state]);
  }

  private async writeStatus(robot: RobotObject, status: RobotStatus): Promise<void> {
    if (sameStatus(robot.status, status)) return;
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: API_GROUP, version: API_VERSION, namespace: robot.metadata?.namespace ?? '', plural: 'robots', name: robot.metadata?.name ?? '', body: { status: nullMissing(robot.status, status) } },
      mergePatch,
    );
  }
}

/** The runtime's count may lag an apply that just happened; the applied count is what was asked. */
function withApplied(runtime: RuntimeState, applied: number | undefined): RuntimeState {
  return applied === undefined ? runtime : { ...runtime, replicas: applied };
}

function sameStatus(a: RobotStatus | undefined, b: RobotStatus): boolean {
  return a !== undefined && jsonEqual(a, b);
}

