import type { Condition } from '../../core/meta.js';
import type { RobotPresence } from '../../core/presence.js';
import type { RobotSpec, RobotStatus } from '../../core/robot.js';
import type { QueueDepth } from '../queues/depth-watcher.js';
import type { RuntimeState } from '../robot-runtime/types.js';
import type { ScaleDecision } from '../scaling/desired-replicas.js';
import { readiness } from '../status/conditions.js';
import { ROBOT_LABEL } from './robot-objects.js';

export interface RobotFacts {
  name: string;
  generation: number;
  previous: readonly Condition[] | undefined;
  /** Undefined when the spec failed validation; `invalid` says why. */
  spec?: RobotSpec;
  invalid?: string;
  decision?: ScaleDecision;
  runtime?: RuntimeState;
  /** Why the runtime could not be reached or refused the change, when it did. */
  runtimeError?: string;
  depth?: QueueDepth;
  /** Live robot processes of this Robot (pods, processes or remote machines). */
  presences: readonly RobotPresence[];
  tokenSecret?: string;
}

/**
 * The Robot's status from what the controller saw: pure, so every branch is a unit test and a
 * reconcile that sees nothing new writes nothing.
 */
export function robotStatus(f: RobotFacts, now: Date): RobotStatus {
  const base = { observedGeneration: f.generation, selector: `${ROBOT_LABEL}=${f.name}` };
  if (!f.spec) {
    return { ...base, conditions: readiness(f.previous, { ready: false, stalled: true, reason: 'InvalidSpec', message: f.invalid ?? 'invalid spec' }, now, f.generation) };
  }
  const busySlots = f.presences.reduce((n, p) => n + p.runningJobs.length, 0);
  const queue = f.depth ? { waiting: f.depth.waiting, active: f.depth.active, delayed: f.depth.delayed, failed: f.depth.failed } : undefined;
  const common = {
    ...base,
    busySlots,
    ...(queue ? { queue, queueDepth: queue.waiting + queue.active } : {}),
  };
  if (f.spec.mode === 'remote') {
    const connected = f.presences.length;
    const outcome = f.runtimeError
      ? { ready: false, stalled: true, reason: 'TokenError', message: f.runtimeError }
      : connected > 0
        ? { ready: true, reason: 'Connected', message: `${connected} machine(s) connected` }
        : { ready: false, reason: 'WaitingForMachines', message: `no machine connected; join with the token in Secret ${f.tokenSecret ?? ''}`.trim() };
    return { ...common, connectedMachines: connected, conditions: readiness(f.previous, outcome, now, f.generation) };
  }
  const desired = f.decision?.desired;
  const replicas = f.runtime?.replicas;
  // A process runtime reports readiness itself; Deployments do through status. Presence is the
  // robots' own word, so the larger of the two counts (a pod may be ready before it beats).
  const ready = Math.max(f.runtime?.ready ?? 0, f.presences.filter((p) => !p.draining).length);
  let outcome: { ready: boolean; stalled?: boolean; reason: string; message: string };
  if (f.runtimeError) outcome = { ready: false, stalled: true, reason: 'RuntimeError', message: f.runtimeError };
  else if (desired === undefined) outcome = { ready: false, reason: 'Counting', message: 'waiting for the first queue count' };
  else if (desired === 0) outcome = { ready: true, reason: 'ScaledToZero', message: f.decision?.message ?? 'no work' };
  else if (ready >= desired) outcome = { ready: true, reason: 'Available', message: `${ready}/${desired} robots ready; ${f.decision?.message ?? ''}`.trim() };
  else outcome = { ready: false, reason: 'Scaling', message: `${ready}/${desired} robots ready; ${f.decision?.message ?? ''}`.trim() };
  return {
    ...common,
    ...(desired !== undefined ? { desiredReplicas: desired } : {}),
    ...(replicas !== undefined ? { replicas } : {}),
    readyReplicas: Math.min(ready, replicas ?? ready),
    ...(f.decision ? { jobsAtRisk: f.decision.jobsAtRisk, scaleReason: f.decision.reason } : {}),
    conditions: readiness(f.previous, outcome, now, f.generation),
  };
}
