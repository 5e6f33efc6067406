/**
 * Which Robot a Job goes to. Pure: the Job controller gathers the candidates (spec, queue depth,
 * capacity) and turns an error result into a condition on the Job.
 */
import { robotSpec } from '../../core/robot.js';

export interface RobotSelector {
  name?: string;
  capabilities?: readonly string[];
}

export interface RobotCandidate {
  name: string;
  capabilities: readonly string[];
  /** Jobs waiting in the Robot's queue. */
  waiting: number;
  /** Jobs running on it now. */
  active: number;
  /**
   * Slots it can run at once: replicas × jobsPerPod for pods (maxReplicas × jobsPerPod when it
   * scales from zero, since the autoscaler will add them), connected machines for remote.
   */
  capacity: number;
}

/**
 * A Robot custom resource as a routing candidate. An invalid spec routes like the defaults (the
 * Robot's own status says why it is invalid); capacity assumes the autoscaler can add replicas.
 */
export function robotCandidate(name: string, rawSpec: unknown, load: { waiting: number; active: number } | undefined): RobotCandidate {
  const parsed = robotSpec.safeParse(rawSpec);
  const spec = parsed.success ? parsed.data : robotSpec.parse({});
  return { name, capabilities: spec.capabilities, waiting: load?.waiting ?? 0, active: load?.active ?? 0, capacity: Math.max(1, spec.maxReplicas * spec.jobsPerPod) };
}

export interface PickOptions {
  /** The Robot that last ran this workflow; kept when not much busier (warm caches, sessions). */
  lastRobot?: string;
  /** How much higher its load may be than the least loaded one's; load 1 = every slot taken. */
  affinityMaxLoadGap?: number;
}

export type PickError =
  | { code: 'InvalidSelector'; message: string }
  | { code: 'UnknownRobot'; message: string; name: string }
  | { code: 'NoCapableRobot'; message: string; missing: Record<string, string[]> };

export type PickResult = { ok: true; robot: string; reason: string } | { ok: false; error: PickError };

export const DEFAULT_AFFINITY_MAX_LOAD_GAP = 0.25;

/** Load after adding one more job; no capacity at all sorts last instead of dividing by zero. */
export function robotLoad(r: RobotCandidate): number {
  const queued = Math.max(0, r.waiting) + Math.max(0, r.active) + 1;
  return r.capacity > 0 ? queued / r.capacity : Number.POSITIVE_INFINITY;
}

const compareLoad = (a: RobotCandidate, b: RobotCandidate): number => {
  const la = robotLoad(a);
  const lb = robotLoad(b);
  if (la !== lb) return la < lb ? -1 : 1;
  const qa = a.waiting + a.active;
  const qb = b.waiting + b.active;
  if (qa !== qb) return qa - qb;
  // Names are unique per namespace, so this makes the choice total and repeatable.
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
};

export function pickRobot(selector: RobotSelector, candidates: readonly RobotCandidate[], options: PickOptions = {}): PickResult {
  const required = [...new Set(selector.capabilities ?? [])];
  if (selector.name !== undefined) {
    const named = candidates.find((c) => c.name === selector.name);
    if (!named) {
      return { ok: false, error: { code: 'UnknownRobot', name: selector.name, message: `robot '${selector.name}' does not exist` } };
    }
    const lacking = required.filter((cap) => !named.capabilities.includes(cap));
    if (lacking.length > 0) {
      return {
        ok: false,
        error: {
          code: 'NoCapableRobot',
          missing: { [named.name]: lacking },
          message: `robot '${named.name}' lacks capabilities: ${lacking.join(', ')}`,
        },
      };
    }
    return { ok: true, robot: named.name, reason: 'selected by name' };
  }
  if (required.length === 0) {
    return { ok: false, error: { code: 'InvalidSelector', message: 'name a robot or list the capabilities it needs' } };
  }

  const missing: Record<string, string[]> = {};
  const eligible: RobotCandidate[] = [];
  for (const c of candidates) {
    const lacking = required.filter((cap) => !c.capabilities.includes(cap));
    if (lacking.length === 0) eligible.push(c);
    else missing[c.name] = lacking;
  }
  eligible.sort(compareLoad);
  const best = eligible[0];
  if (!best) {
    const detail =
      candidates.length === 0
        ? 'no robots exist'
        : Object.entries(missing)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([name, lacking]) => `${name} lacks ${lacking.join(', ')}`)
            .join('; ');
    return {
      ok: false,
      error: { code: 'NoCapableRobot', missing, message: `no robot has all of [${required.join(', ')}]: ${detail}` },
    };
  }

  if (options.lastRobot !== undefined && options.lastRobot !== best.name) {
    const previous = eligible.find((c) => c.name === options.lastRobot);
    const gap = options.affinityMaxLoadGap ?? DEFAULT_AFFINITY_MAX_LOAD_GAP;
    if (previous && robotLoad(previous) - robotLoad(best) <= gap) {
      return { ok: true, robot: previous.name, reason: 'affinity: ran this workflow last and is not much busier' };
    }
  }
  return { ok: true, robot: best.name, reason: `least loaded of ${eligible.length} capable robots` };
}
