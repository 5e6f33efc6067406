import * as k8s from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import type { JobState } from '../../core/job.js';
import { jsonEqual } from '../../core/json-equal.js';
import type { Logger } from '../../core/logger.js';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../../core/meta.js';
import { isConflict, isNotFound } from '../runtime/api-errors.js';
import { perRegistry } from '../../core/per-registry.js';
import { type EventSink, NO_EVENTS } from '../runtime/events.js';
import { type Informer, objectKey } from '../runtime/informer.js';
import type { SharedInformers } from '../runtime/shared-informers.js';
import { type ReconcileResult, WorkQueue } from '../runtime/workqueue.js';
import { nextFireTime } from '../schedules/cron.js';
import type { PlannedRun } from '../schedules/plan.js';
import { nullMissing } from '../status/merge-patch.js';
import {
  comparableStatus,
  decideSchedule,
  SCHEDULE_LABEL,
  SCHEDULED_TIME_ANNOTATION,
  type ScheduleRun,
  type ScheduleStatus,
  scheduleProblems,
} from './schedule-decide.js';

interface Obj extends k8s.KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

const runsCounter = perRegistry(
  (registers) =>
    new Counter({ name: 'rpa_schedule_runs_total', help: 'Schedule ticks by outcome: created, missed, replaced', labelNames: ['namespace', 'schedule', 'result'], registers }),
);

export interface ScheduleControllerOptions {
  registry?: Registry;
  logger?: Logger;
  workers?: number;
  events?: EventSink;
  /** Clock, for tests. */
  now?: () => Date;
  /** A Schedule in this namespace changed: warm-up plans of Robots there may have moved. */
  onScheduleChanged?: (namespace: string) => void;
}

/**
 * Fires Schedules: each due tick becomes a Job custom resource owned by the Schedule, named after
 * the tick so that two leaders (or a leader and its own restart) creating the same tick collide on
 * the API server instead of running twice. Runs are created before status is written; the tick a
 * run stands for is also on the run, so losing the status write loses nothing.
 */
export class ScheduleController {
  readonly schedules: Informer<Obj>;
  private readonly jobs: Informer<Obj>;
  private readonly queue: WorkQueue;
  private readonly detach: (() => void)[] = [];
  private readonly custom: k8s.CustomObjectsApi;
  private readonly events: EventSink;
  private readonly runs: Counter;
  private readonly now: () => Date;
  /** Newest tick taken per Schedule uid, ahead of a possibly stale cache. */
  private readonly taken = new Map<string, Date>();

  constructor(
    kc: k8s.KubeConfig,
    informers: SharedInformers,
    private readonly opts: ScheduleControllerOptions = {},
  ) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.events = opts.events ?? NO_EVENTS;
    this.runs = runsCounter(opts.registry);
    this.now = opts.now ?? (() => new Date());
    this.schedules = informers.for<Obj>({ apiVersion: API_GROUP_VERSION, kind: 'Schedule', plural: 'schedules' });
    this.jobs = informers.for<Obj>({ apiVersion: API_GROUP_VERSION, kind: 'Job', plural: 'jobs' });
    this.queue = new WorkQueue({
      name: 'schedule',
      reconcile: (key) => this.reconcile(key),
      workers: opts.workers ?? 2,
      ...(opts.registry ? { registry: opts.registry } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    const changed = (o: Obj) => {
      this.queue.add(objectKey(o));
      if (o.metadata?.namespace) opts.onScheduleChanged?.(o.metadata.namespace);
    };
    this.detach.push(this.schedules.addHandlers({
      add: changed,
      update: (_old, cur) => changed(cur),
      delete: (o) => {
        if (o.metadata?.uid) this.taken.delete(o.metadata.uid);
        changed(o);
      },
    }));
    // A run starting, finishing or disappearing changes active runs, history and Forbid's verdict.
    const run = (o: Obj) => {
      const owner = scheduleOwner(o);
      if (owner && o.metadata?.namespace) this.queue.add(`${o.metadata.namespace}/${owner}`);
    };
    this.detach.push(this.jobs.addHandlers({ add: run, update: (_o, cur) => run(cur), delete: run }));
  }

  /** Call after the shared informers have synced. */
  start(): void {
    this.queue.start();
  }

  async stop(): Promise<void> {
    // Informers outlive controllers (a replica that loses the Lease builds new ones): let go of them.
    for (const detach of this.detach.splice(0)) detach();
    await this.queue.shutdown();
  }

  /**
   * The next fire time of each Schedule whose runs this Robot can take (by name, or by having every
   * capability the selector lists), soonest first; used to warm a pod Robot up before its runs.
   * One per Schedule: the next tick of the same Schedule reuses the warmed pod. Suspended or
   * invalid Schedules have none.
   */
  upcomingRuns(namespace: string, robot: { name: string; capabilities: readonly string[] }): Date[] {
    const now = this.now();
    const out: Date[] = [];
    for (const s of this.schedules.list()) {
      if (s.metadata?.namespace !== namespace) continue;
      const { spec } = scheduleProblems(s.spec);
      if (!spec || spec.suspend || !selects(spec.jobTemplate.spec.robotSelector, robot)) continue;
      const next = nextFireTime(spec.cron, spec.timeZone, now, spec.dstPolicy);
      if (next) out.push(next);
    }
    return out.sort((a, b) => a.getTime() - b.getTime());
  }

  private async reconcile(key: string): Promise<ReconcileResult> {
    const schedule = this.schedules.get(key);
    const name = schedule?.metadata?.name;
    const namespace = schedule?.metadata?.namespace;
    const uid = schedule?.metadata?.uid;
    // Runs of a deleted Schedule are garbage-collected through their owner reference.
    if (!schedule || !name || !namespace || !uid || schedule.metadata?.deletionTimestamp) return;
    const now = this.now();
    const status = schedule.status as ScheduleStatus | undefined;
    const d = decideSchedule({
      name,
      generation: schedule.metadata?.generation ?? 0,
      spec: schedule.spec,
      ...(status ? { status } : {}),
      creationTimestamp: new Date(schedule.metadata?.creationTimestamp ?? now),
      runs: this.runsOf(namespace, uid),
      ...(this.taken.has(uid) ? { rememberedLastScheduleTime: this.taken.get(uid) } : {}),
      now,
    });
    const ref = { group: API_GROUP, version: API_VERSION, namespace, plural: 'jobs' };

    for (const run of d.cancel) {
      await this.deleteJob(ref, run);
      this.runs.inc({ namespace, schedule: name, result: 'replaced' });
      this.events.record(schedule, 'Normal', 'RunReplaced', `Deleted active run ${run} (concurrencyPolicy Replace)`);
    }
    const uids = new Map<string, string>();
    for (const run of d.create) {
      const created = await this.createRun(schedule, run, namespace, uid);
      if (created) uids.set(run.name, created);
      const prev = this.taken.get(uid);
      if (!prev || prev < run.scheduledTime) this.taken.set(uid, run.scheduledTime);
    }
    if (d.advanced && d.plan && d.plan.missedRuns > 0) {
      this.runs.inc({ namespace, schedule: name, result: 'missed' }, d.plan.missedRuns);
      const why = d.plan.skippedBecause.join(', ') || 'concurrencyPolicy';
      this.events.record(schedule, 'Warning', 'MissedRuns', `${d.plan.missedRuns} run(s) not started (${why})`);
    }
    if (d.status.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True') && !status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True')) {
      this.events.record(schedule, 'Warning', 'InvalidSpec', d.status.conditions.find((c) => c.type === 'Stalled')?.message ?? 'invalid spec');
    }

    const wanted: ScheduleStatus = { ...d.status, active: (d.status.active ?? []).map((a) => (a.uid || !uids.has(a.name) ? a : { ...a, uid: uids.get(a.name) })) };
    if (!jsonEqual(comparableStatus(status), comparableStatus(wanted))) {
      // resourceVersion makes the write conditional: a status decided from a stale cache (another
      // replica, or our own write not seen yet) is refused and decided again from fresh facts.
      const body = { metadata: { resourceVersion: schedule.metadata?.resourceVersion }, status: nullMissing(status, wanted) };
      try {
        await this.custom.patchNamespacedCustomObjectStatus({ group: API_GROUP, version: API_VERSION, namespace, plural: 'schedules', name, body }, mergePatch);
      } catch (err) {
        if (isConflict(err)) return { requeue: true };
        throw err;
      }
    }
    // History goes last: a failure above must not cost finished runs that are still the record.
    for (const run of d.prune) await this.deleteJob(ref, run);
    return d.requeueAfterMs !== undefined ? { requeueAfter: d.requeueAfterMs } : undefined;
  }

  /** The created run's uid, or undefined when another leader created this tick first. */
  private async createRun(schedule: Obj, run: PlannedRun, namespace: string, uid: string): Promise<string | undefined> {
    const name = schedule.metadata?.name ?? '';
    const template = (schedule.spec as { jobTemplate?: { spec?: unknown } } | undefined)?.jobTemplate;
    const body = {
      apiVersion: API_GROUP_VERSION,
      kind: 'Job',
      metadata: {
        name: run.name,
        namespace,
        labels: { [SCHEDULE_LABEL]: name },
        annotations: { [SCHEDULED_TIME_ANNOTATION]: run.scheduledTime.toISOString() },
        ownerReferences: [{ apiVersion: API_GROUP_VERSION, kind: 'Schedule', name, uid, controller: true, blockOwnerDeletion: true }],
      },
      // The raw template, not the parsed one: the Job's own defaults apply as if a user applied it.
      spec: template?.spec ?? {},
    };
    try {
      const created = (await this.custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: 'jobs', body })) as Obj;
      this.runs.inc({ namespace, schedule: name, result: 'created' });
      this.events.record(schedule, 'Normal', 'RunCreated', `Created Job ${run.name} for ${run.scheduledTime.toISOString()}`);
      return created.metadata?.uid;
    } catch (err) {
      if (!isConflict(err)) throw err;
      this.opts.logger?.debug({ schedule: `${namespace}/${name}`, run: run.name }, 'run exists already: another leader took this tick');
      return undefined;
    }
  }

  private async deleteJob(ref: { group: string; version: string; namespace: string; plural: string }, name: string): Promise<void> {
    try {
      await this.custom.deleteNamespacedCustomObject({ ...ref, name, propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private runsOf(namespace: string, scheduleUid: string): ScheduleRun[] {
    const out: ScheduleRun[] = [];
    for (const j of this.jobs.list()) {
      const m = j.metadata;
      if (m?.namespace !== namespace || !m.name || !m.ownerReferences?.some((o) => o.controller && o.kind === 'Schedule' && o.uid === scheduleUid)) continue;
      const status = j.status as { phase?: JobState; completionTime?: string } | undefined;
      const scheduled = m.annotations?.[SCHEDULED_TIME_ANNOTATION];
      out.push({
        name: m.name,
        ...(m.uid ? { uid: m.uid } : {}),
        ...(scheduled && !Number.isNaN(Date.parse(scheduled)) ? { scheduledTime: new Date(scheduled) } : {}),
        ...(m.creationTimestamp ? { creationTime: new Date(m.creationTimestamp) } : {}),
        ...(status?.phase ? { phase: status.phase } : {}),
        ...(status?.completionTime ? { completionTime: new Date(status.completionTime) } : {}),
        deleting: Boolean(m.deletionTimestamp),
      });
    }
    return out;
  }
}

function scheduleOwner(job: Obj): string | undefined {
  return job.metadata?.ownerReferences?.find((o) => o.controller && o.kind === 'Schedule' && o.apiVersion === API_GROUP_VERSION)?.name;
}

/** Whether a run with this selector may land on the Robot: the same test routing applies. */
function selects(selector: { name?: string; capabilities?: string[] }, robot: { name: string; capabilities: readonly string[] }): boolean {
  if (selector.name !== undefined && selector.name !== robot.name) return false;
  return (selector.capabilities ?? []).every((c) => robot.capabilities.includes(c));
}
