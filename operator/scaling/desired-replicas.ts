/**
 * How many pods a `mode: pods` Robot should run. Pure: every input, including the clock, is an
 * argument, so the Robot controller can recompute it on each queue event and on resync.
 */

export interface ReplicaBounds {
  jobsPerPod: number;
  minReplicas: number;
  maxReplicas: number;
}

export const clampReplicas = (n: number, b: Pick<ReplicaBounds, 'minReplicas' | 'maxReplicas'>): number =>
  Math.min(b.maxReplicas, Math.max(b.minReplicas, n));

/** ceil((waiting + active) / jobsPerPod), clamped to [minReplicas, maxReplicas]. */
export function desiredReplicas(i: ReplicaBounds & { waiting: number; active: number }): number {
  const jobs = Math.max(0, i.waiting) + Math.max(0, i.active);
  return clampReplicas(Math.ceil(jobs / Math.max(1, i.jobsPerPod)), i);
}

/**
 * HPA/KEDA-style scale-down stabilisation: the result is the highest recommendation seen within
 * the window, so a rise applies at once and a fall only after it has held for the whole window.
 */
export class ScaleDownStabilizer {
  private recommendations: { at: number; replicas: number }[] = [];

  constructor(private readonly windowSeconds: number) {}

  /** Records `replicas` as recommended at `now` and returns the stabilised value. */
  recommend(replicas: number, now: Date): number {
    const t = now.getTime();
    const cutoff = t - this.windowSeconds * 1000;
    this.recommendations = this.recommendations.filter((r) => r.at > cutoff && r.at <= t);
    this.recommendations.push({ at: t, replicas });
    return Math.max(...this.recommendations.map((r) => r.replicas));
  }
}

export interface DeadlineJob {
  /** Undefined for a job without a deadline: it takes a slot but never drives extra capacity. */
  deadline?: Date;
}

export interface DeadlineInput {
  /** Waiting jobs; they start in earliest-deadline-first order as slots free up. */
  waiting: readonly DeadlineJob[];
  /** Jobs running now; each is assumed to hold its slot for one more expected duration. */
  active: number;
  /** Slots running now (ready replicas × jobsPerPod, or connected machines). */
  currentSlots: number;
  /** Expected job run time, e.g. a moving average of recent durations. */
  expectedJobSeconds: number;
}

export interface DeadlineResult {
  /** Slots needed so every job whose deadline is still reachable meets it. */
  slotsNeeded: number;
  extraSlots: number;
  /** Jobs that miss their deadline at the current capacity (includes hopeless ones). */
  atRisk: number;
  /** Jobs that miss their deadline even if they started now. */
  hopeless: number;
}

/** Count of jobs finishing after their deadline when `slots` run them earliest deadline first. */
function missesWith(slots: number, jobs: readonly DeadlineJob[], active: number, durMs: number, nowMs: number): number {
  if (slots <= 0) return jobs.filter((j) => j.deadline !== undefined).length;
  // Free times of each slot; active jobs occupy the first ones for a full duration (pessimistic).
  const free = Array.from({ length: slots }, (_, i) => (i < active ? nowMs + durMs : nowMs));
  let misses = 0;
  for (const job of jobs) {
    let idx = 0;
    for (let i = 1; i < free.length; i++) if ((free[i] ?? Infinity) < (free[idx] ?? Infinity)) idx = i;
    const start = free[idx] ?? nowMs;
    const end = start + durMs;
    free[idx] = end;
    if (job.deadline !== undefined && end > job.deadline.getTime()) misses++;
  }
  return misses;
}

const byDeadline = (a: DeadlineJob, b: DeadlineJob): number =>
  (a.deadline?.getTime() ?? Infinity) - (b.deadline?.getTime() ?? Infinity);

export function deadlineCapacity(input: DeadlineInput, now: Date): DeadlineResult {
  const nowMs = now.getTime();
  const durMs = Math.max(0, input.expectedJobSeconds) * 1000;
  const jobs = [...input.waiting].sort(byDeadline);
  const hopeless = jobs.filter((j) => j.deadline !== undefined && nowMs + durMs > j.deadline.getTime()).length;
  const current = Math.max(0, input.currentSlots);
  const atRisk = missesWith(current, jobs, input.active, durMs, nowMs);
  if (atRisk <= hopeless) return { slotsNeeded: current, extraSlots: 0, atRisk, hopeless };
  // One slot per job (plus the active ones) starts everything now, so the answer lies below it;
  // misses only fall as slots grow, so binary search.
  let lo = current;
  let hi = Math.max(current, input.active + jobs.length);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (missesWith(mid, jobs, input.active, durMs, nowMs) <= hopeless) hi = mid;
    else lo = mid + 1;
  }
  return { slotsNeeded: lo, extraSlots: lo - current, atRisk, hopeless };
}

/**
 * Replicas wanted now so that Schedules firing within `warmupSeconds` find a warm pod: one slot
 * per upcoming fire, at least one replica when any fire is near.
 */
export function warmupReplicas(i: { nextFireTimes: readonly Date[]; warmupSeconds: number; jobsPerPod: number }, now: Date): number {
  const nowMs = now.getTime();
  const horizon = nowMs + i.warmupSeconds * 1000;
  const upcoming = i.nextFireTimes.filter((d) => d.getTime() >= nowMs && d.getTime() <= horizon).length;
  return Math.ceil(upcoming / Math.max(1, i.jobsPerPod));
}

export type ScaleReason = 'QueueDepth' | 'Deadline' | 'Warmup' | 'MinReplicas' | 'MaxReplicas' | 'Stabilizing';

export interface ScaleInputs extends ReplicaBounds {
  waiting: number;
  active: number;
  /** Replicas ready now; the capacity that deadlines are checked against. */
  readyReplicas?: number;
  deadlines?: { jobs: readonly DeadlineJob[]; expectedJobSeconds: number };
  warmup?: { nextFireTimes: readonly Date[]; warmupSeconds: number };
  /** Kept by the caller per Robot across decisions; omitted means no stabilisation. */
  stabilizer?: ScaleDownStabilizer;
}

export interface ScaleDecision {
  desired: number;
  reason: ScaleReason;
  /** One line for a status condition or Event. */
  message: string;
  jobsAtRisk: number;
}

/** Combines queue depth, deadlines and warm-up, clamps, then stabilises scale-down. */
export function scaleDecision(i: ScaleInputs, now: Date): ScaleDecision {
  const perPod = Math.max(1, i.jobsPerPod);
  const jobs = Math.max(0, i.waiting) + Math.max(0, i.active);
  const candidates: { replicas: number; reason: ScaleReason; message: string }[] = [
    { replicas: Math.ceil(jobs / perPod), reason: 'QueueDepth', message: `${jobs} queued or running jobs at ${perPod} per pod` },
  ];
  let jobsAtRisk = 0;
  if (i.deadlines) {
    const d = deadlineCapacity(
      {
        waiting: i.deadlines.jobs,
        active: Math.max(0, i.active),
        currentSlots: (i.readyReplicas ?? 0) * perPod,
        expectedJobSeconds: i.deadlines.expectedJobSeconds,
      },
      now,
    );
    jobsAtRisk = d.atRisk;
    if (d.atRisk > 0) {
      candidates.push({
        replicas: Math.ceil(d.slotsNeeded / perPod),
        reason: 'Deadline',
        message: `${d.atRisk} jobs would miss their deadline at current capacity (${d.hopeless} cannot be saved)`,
      });
    }
  }
  if (i.warmup) {
    const w = warmupReplicas({ ...i.warmup, jobsPerPod: perPod }, now);
    if (w > 0) candidates.push({ replicas: w, reason: 'Warmup', message: `a schedule fires within ${i.warmup.warmupSeconds}s` });
  }
  // The first candidate wins ties, so the plainest explanation is the one reported.
  let best = candidates[0] ?? { replicas: 0, reason: 'QueueDepth' as const, message: '' };
  for (const c of candidates) if (c.replicas > best.replicas) best = c;

  let desired = clampReplicas(best.replicas, i);
  let reason = best.reason;
  let message = `${best.message}: ${best.replicas} replicas`;
  if (desired > best.replicas) {
    reason = 'MinReplicas';
    message = `${message}, raised to minReplicas ${i.minReplicas}`;
  } else if (desired < best.replicas) {
    reason = 'MaxReplicas';
    message = `${message}, capped at maxReplicas ${i.maxReplicas}`;
  }
  if (i.stabilizer) {
    // Clamped again so a lowered maxReplicas applies at once instead of after the window.
    const stable = clampReplicas(i.stabilizer.recommend(desired, now), i);
    if (stable > desired) {
      message = `${message}; holding ${stable} until the scale-down window passes`;
      reason = 'Stabilizing';
      desired = stable;
    }
  }
  return { desired, reason, message, jobsAtRisk };
}
