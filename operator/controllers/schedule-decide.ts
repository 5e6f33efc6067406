/**
 * What the Schedule controller does for one Schedule, given the Schedule and the Job runs it owns:
 * which runs to create, which to cancel (Replace), which finished runs fall out of history, and the
 * status to write. Pure; schedule-controller.ts performs it.
 */
import { FINAL_STATES, type JobState } from '../../core/job.js';
import { type ScheduleSpec, scheduleSpec, type scheduleStatus } from '../../core/schedule.js';
import type { z } from 'zod';
import { cronError, isValidTimeZone } from '../schedules/cron.js';
import { type PlannedRun, planSchedule, type SchedulePlan } from '../schedules/plan.js';
import { readiness } from '../status/conditions.js';

export type ScheduleStatus = z.infer<typeof scheduleStatus>;

/** Label on every Job a Schedule creates, so `kubectl get jobs.rpa.dev -l rpa.dev/schedule=x` lists its runs. */
export const SCHEDULE_LABEL = 'rpa.dev/schedule';
/** The tick a run was created for; survives status loss, so a new leader never creates a tick twice. */
export const SCHEDULED_TIME_ANNOTATION = 'rpa.dev/scheduled-time';

/** Upper bound between two looks at a Schedule, so clock steps or a lost timer cost at most this. */
export const MAX_REQUEUE_MS = 60_000;

export interface ScheduleRun {
  name: string;
  uid?: string;
  /** From the scheduled-time annotation. */
  scheduledTime?: Date;
  creationTime?: Date;
  phase?: JobState;
  completionTime?: Date;
  /** Being deleted (Replace or history): neither active nor history. */
  deleting: boolean;
}

export interface ScheduleFacts {
  name: string;
  generation: number;
  spec: unknown;
  status?: ScheduleStatus;
  creationTimestamp: Date;
  runs: readonly ScheduleRun[];
  /** The newest tick this process created a run for, in case status and cache lag behind it. */
  rememberedLastScheduleTime?: Date;
  now: Date;
}

export interface ScheduleDecision {
  /** The parsed spec; undefined when invalid. */
  spec?: ScheduleSpec;
  plan?: SchedulePlan;
  create: PlannedRun[];
  cancel: string[];
  prune: string[];
  /** Status to write once the runs exist; `active` lists created runs without uid (the controller fills it). */
  status: ScheduleStatus;
  /** Set when lastScheduleTime moves forward, i.e. when this decision commits ticks (missed ones included). */
  advanced: boolean;
  requeueAfterMs?: number;
}

/** The spec's problems, each naming its field; empty when valid. */
export function scheduleProblems(raw: unknown): { spec?: ScheduleSpec; problems: string[] } {
  const parsed = scheduleSpec.safeParse(raw);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`) };
  const problems: string[] = [];
  const cron = cronError(parsed.data.cron);
  if (cron) problems.push(`spec.cron: ${cron}`);
  if (!isValidTimeZone(parsed.data.timeZone)) problems.push(`spec.timeZone: unknown IANA time zone '${parsed.data.timeZone}'`);
  return problems.length > 0 ? { problems } : { spec: parsed.data, problems };
}

const isActive = (r: ScheduleRun) => !r.deleting && (r.phase === undefined || !FINAL_STATES.has(r.phase));
const latest = (...dates: (Date | undefined)[]): Date | undefined =>
  dates.reduce<Date | undefined>((a, d) => (d && (!a || d.getTime() > a.getTime()) ? d : a), undefined);
const runTime = (r: ScheduleRun) => (r.scheduledTime ?? r.creationTime ?? new Date(0)).getTime();
const parseDate = (s: string | undefined) => (s ? new Date(s) : undefined);

export function decideSchedule(f: ScheduleFacts): ScheduleDecision {
  const { spec, problems } = scheduleProblems(f.spec);
  const previous = f.status ?? {};
  const active = f.runs.filter(isActive);
  if (!spec) {
    const conditions = readiness(previous.conditions, { ready: false, stalled: true, reason: 'InvalidSpec', message: problems.join('; ') }, f.now, f.generation);
    return {
      create: [],
      cancel: [],
      prune: [],
      advanced: false,
      status: { ...omit(previous, 'nextScheduleTime'), active: active.map(ref), conditions, observedGeneration: f.generation },
    };
  }

  // Status can lag behind runs created just before a crash or leader change; the runs themselves
  // (their annotation) are the record that a tick was taken.
  const recorded = parseDate(previous.lastScheduleTime);
  const fromRuns = latest(...f.runs.map((r) => r.scheduledTime));
  const taken = latest(recorded, fromRuns, f.rememberedLastScheduleTime);
  const last = taken ?? f.creationTimestamp;
  const plan = planSchedule({
    name: f.name,
    spec,
    lastScheduleTime: last,
    activeRuns: active.map((r) => ({ name: r.name, ...(r.scheduledTime ? { scheduledTime: r.scheduledTime } : {}) })),
    now: f.now,
  });
  const existing = new Set(f.runs.map((r) => r.name));
  const create = plan.runsToStart.filter((r) => !existing.has(r.name));
  const cancel = plan.runsToCancel;
  const stillActive = active.filter((r) => !cancel.includes(r.name));

  const finished = f.runs.filter((r) => !r.deleting && r.phase !== undefined && FINAL_STATES.has(r.phase)).sort((a, b) => runTime(b) - runTime(a));
  const succeeded = finished.filter((r) => r.phase === 'succeeded');
  const failed = finished.filter((r) => r.phase !== 'succeeded');
  const prune = [...succeeded.slice(spec.successfulRunsHistoryLimit), ...failed.slice(spec.failedRunsHistoryLimit)].map((r) => r.name);
  const lastSuccessful = latest(parseDate(previous.lastSuccessfulTime), ...succeeded.map((r) => r.completionTime));

  // Planning from the creation time is not a run: status says lastScheduleTime only once a tick is taken.
  const newLast = !taken && plan.lastScheduleTime?.getTime() === last.getTime() ? undefined : plan.lastScheduleTime;
  const outcome = conditionOutcome(spec, plan, stillActive);
  const status: ScheduleStatus = {
    ...(newLast ? { lastScheduleTime: newLast.toISOString() } : {}),
    ...(lastSuccessful ? { lastSuccessfulTime: lastSuccessful.toISOString() } : {}),
    ...(plan.nextScheduleTime && !spec.suspend ? { nextScheduleTime: plan.nextScheduleTime.toISOString() } : {}),
    active: [...stillActive.map(ref), ...create.map((r) => ({ name: r.name }))],
    conditions: readiness(previous.conditions, outcome, f.now, f.generation),
    observedGeneration: f.generation,
  };
  const advanced = newLast !== undefined && (recorded === undefined || newLast.getTime() > recorded.getTime());
  // Suspended: nothing fires, so ticks need no wake-up; the spec change that resumes it wakes us.
  const requeue = plan.requeueAfterMs === undefined || spec.suspend ? MAX_REQUEUE_MS : Math.min(MAX_REQUEUE_MS, Math.max(1, plan.requeueAfterMs));
  return { spec, plan, create, cancel, prune, status, advanced, requeueAfterMs: requeue };
}

function omit<T extends object, K extends keyof T>(o: T, key: K): Omit<T, K> {
  const copy = { ...o };
  delete copy[key];
  return copy;
}

function ref(r: ScheduleRun): { name: string; uid?: string } {
  return r.uid ? { name: r.name, uid: r.uid } : { name: r.name };
}

function conditionOutcome(spec: ScheduleSpec, plan: SchedulePlan, active: readonly ScheduleRun[]): { ready: boolean; reason: string; message: string } {
  if (spec.suspend) return { ready: true, reason: 'Suspended', message: 'Suspended: no runs start until spec.suspend is false' };
  if (plan.skippedBecause.includes('ConcurrencyForbid')) {
    return { ready: true, reason: 'RunPostponed', message: `A due run waits for ${active.map((r) => r.name).join(', ')} to finish (concurrencyPolicy Forbid)` };
  }
  if (!plan.nextScheduleTime) return { ready: true, reason: 'NoFutureRuns', message: `'${spec.cron}' has no future fire time` };
  return { ready: true, reason: 'Scheduled', message: `Next run at ${plan.nextScheduleTime.toISOString()} (${spec.cron}, ${spec.timeZone})` };
}

/** Status fields this controller owns, in a fixed order, for comparing stored and wanted status. */
export function comparableStatus(s: ScheduleStatus | undefined): unknown[] {
  return s ? [s.lastScheduleTime, s.lastSuccessfulTime, s.nextScheduleTime, s.active ?? [], s.observedGeneration, s.conditions] : [];
}
