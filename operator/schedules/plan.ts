/**
 * The Schedule reconciler's decision: which scheduled times to start now, which runs to cancel,
 * and when to look again. Pure; the controller turns the plan into Job CRs.
 */
import type { ScheduleSpec } from '../../core/schedule.js';
import { fireTimes, nextFireTime, parseCron, type Cron } from './cron.js';

export type SchedulePlanSpec = Pick<
  ScheduleSpec,
  'cron' | 'timeZone' | 'suspend' | 'concurrencyPolicy' | 'startingDeadlineSeconds' | 'dstPolicy' | 'maxMissedRuns'
>;

export interface ActiveRun {
  name: string;
  scheduledTime?: Date;
}

export interface PlanInput {
  /** metadata.name of the Schedule; prefix of every run name. */
  name: string;
  spec: SchedulePlanSpec;
  /** status.lastScheduleTime, or the Schedule's creation time when it never ran. */
  lastScheduleTime: Date | undefined;
  activeRuns: readonly ActiveRun[];
  now: Date;
}

export type SkipReason = 'Suspended' | 'ConcurrencyForbid' | 'StartingDeadlineExceeded' | 'MissedRunsCapped';

export interface PlannedRun {
  scheduledTime: Date;
  /** Deterministic, so two leaders creating the same tick collide on the API server. */
  name: string;
}

export interface SchedulePlan {
  runsToStart: PlannedRun[];
  /** Active runs to delete before starting (Replace). */
  runsToCancel: string[];
  skippedBecause: SkipReason[];
  /** Due times not started (dropped by deadline, cap or policy). */
  missedRuns: number;
  /** What status.lastScheduleTime should become; unchanged when a due run is only postponed. */
  lastScheduleTime: Date | undefined;
  nextScheduleTime: Date | undefined;
  /** Milliseconds until the controller should reconcile this Schedule again. */
  requeueAfterMs: number | undefined;
}

/** Kubernetes names are at most 63 characters when used as label values; leave room for the time. */
const MAX_PREFIX = 52;
/** Enumerating more due times than this means a long outage; older ones are dropped anyway. */
const MAX_DUE_SCAN = 10_000;

export function runName(schedule: string, scheduledTime: Date): string {
  const prefix = schedule.slice(0, MAX_PREFIX).replace(/-+$/, '');
  return `${prefix}-${Math.floor(scheduledTime.getTime() / 1000)}`;
}

/**
 * Due times in (after, now], newest `keep` of them plus the total count. A very long outage with
 * a seconds-level cron would enumerate millions of ticks; narrowing the window towards `now`
 * keeps the newest ticks exact and only the count approximate (reported as at least the scan).
 */
function dueTimes(cron: Cron, input: PlanInput, afterMs: number, keep: number): { kept: Date[]; total: number } {
  const { timeZone, dstPolicy } = input.spec;
  const nowMs = input.now.getTime();
  let from = afterMs;
  let skippedEstimate = 0;
  for (;;) {
    const found: Date[] = [];
    for (const d of fireTimes(cron, timeZone, new Date(from), dstPolicy)) {
      if (d.getTime() > nowMs || found.length > MAX_DUE_SCAN) break;
      found.push(d);
    }
    if (found.length <= MAX_DUE_SCAN) {
      return { kept: found.slice(Math.max(0, found.length - keep)), total: found.length + skippedEstimate };
    }
    skippedEstimate += MAX_DUE_SCAN;
    from = from + Math.floor((nowMs - from) / 2);
  }
}

export function planSchedule(input: PlanInput): SchedulePlan {
  const { spec, now, activeRuns } = input;
  const cron = parseCron(spec.cron);
  const nowMs = now.getTime();
  const next = nextFireTime(cron, spec.timeZone, now, spec.dstPolicy);
  const base = {
    runsToCancel: [] as string[],
    nextScheduleTime: next,
    requeueAfterMs: next ? Math.max(0, next.getTime() - nowMs) : undefined,
  };

  if (input.lastScheduleTime === undefined) {
    // Nothing to catch up on: the first run is the next tick.
    return { ...base, runsToStart: [], skippedBecause: [], missedRuns: 0, lastScheduleTime: undefined };
  }

  const skipped: SkipReason[] = [];
  let after = input.lastScheduleTime.getTime();
  const deadlineMs = spec.startingDeadlineSeconds !== undefined ? spec.startingDeadlineSeconds * 1000 : undefined;
  // Like the CronJob controller: ticks older than the deadline can never start, so do not scan them.
  const earliest = deadlineMs !== undefined ? nowMs - deadlineMs : undefined;
  let droppedByDeadline = 0;
  if (earliest !== undefined && earliest > after) {
    droppedByDeadline = dueTimes(cron, input, after, 0).total - dueTimes(cron, input, earliest - 1, 0).total;
    after = earliest - 1;
  }
  // maxMissedRuns 0 still lets the current tick run: it caps catch-up, not normal operation.
  const cap = Math.max(1, spec.maxMissedRuns);
  const due = dueTimes(cron, input, after, cap);
  if (droppedByDeadline > 0) skipped.push('StartingDeadlineExceeded');
  if (due.total > due.kept.length) skipped.push('MissedRunsCapped');
  const latestConsidered = due.kept.at(-1) ?? (droppedByDeadline > 0 ? new Date(after) : input.lastScheduleTime);
  let missed = droppedByDeadline + (due.total - due.kept.length);

  if (spec.suspend) {
    return {
      ...base,
      runsToStart: [],
      skippedBecause: ['Suspended', ...skipped],
      missedRuns: missed + due.kept.length,
      // Resuming continues from the next tick instead of replaying the suspended period.
      lastScheduleTime: due.kept.length > 0 ? latestConsidered : input.lastScheduleTime,
    };
  }

  let toStart = due.kept;
  let runsToCancel: string[] = [];
  if (toStart.length > 0 && spec.concurrencyPolicy !== 'Allow') {
    // Forbid and Replace both mean one run at a time, so only the newest tick is worth starting.
    missed += toStart.length - 1;
    toStart = toStart.slice(-1);
    if (spec.concurrencyPolicy === 'Forbid' && activeRuns.length > 0) {
      // Postponed rather than dropped: it may start once the active run ends, deadline allowing.
      return {
        ...base,
        runsToStart: [],
        skippedBecause: ['ConcurrencyForbid', ...skipped],
        missedRuns: missed,
        lastScheduleTime: input.lastScheduleTime,
      };
    }
    if (spec.concurrencyPolicy === 'Replace') runsToCancel = activeRuns.map((r) => r.name);
  }

  return {
    ...base,
    runsToCancel,
    runsToStart: toStart.map((t) => ({ scheduledTime: t, name: runName(input.name, t) })),
    skippedBecause: skipped,
    missedRuns: missed,
    lastScheduleTime: toStart.at(-1) ?? latestConsidered,
  };
}
