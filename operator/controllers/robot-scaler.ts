import type { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import { type DataPlaneSettings, queueName } from '../../core/queue.js';
import { type QueueDepth, QueueDepthWatcher } from '../queues/depth-watcher.js';
import type { RobotRuntime, RobotTarget } from '../robot-runtime/types.js';
import { type ScaleDecision, scaleDecision, ScaleDownStabilizer, type ScaleInputs } from '../scaling/desired-replicas.js';

/** What the Robot controller knows beyond queue depth: upcoming schedule fires, deadlines, ready pods. */
export type ScaleExtras = Pick<ScaleInputs, 'warmup' | 'deadlines' | 'readyReplicas'>;

export interface ScaleEvent {
  robot: string;
  namespace: string;
  depth: QueueDepth;
  decision: ScaleDecision;
  /** When the runtime had the new replica count (Deployment patched, processes started). */
  appliedAt: number;
}

interface Tracked {
  robot: RobotTarget;
  extras: ScaleExtras;
  decision?: ScaleDecision;
  error?: string;
  stabilizer: ScaleDownStabilizer;
  depth?: QueueDepth;
  applied?: number;
  inFlight?: Promise<void>;
  again: boolean;
  recheck?: NodeJS.Timeout;
}

/**
 * The event-driven half of the Robot controller: queue events for a pod Robot become a scale
 * decision and, when the answer changed, one runtime call. Calls for a Robot never overlap;
 * events during a call fold into one more decision after it. A Robot held up by the scale-down
 * window is looked at again when the window can have passed, even if its queue stays quiet.
 */
export class RobotScaler {
  private readonly watcher: QueueDepthWatcher;
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    redis: Redis,
    blocking: Redis,
    settings: DataPlaneSettings,
    private readonly runtime: RobotRuntime,
    private readonly opts: { logger?: Logger; onScaled?: (e: ScaleEvent) => void; debounceMs?: number } = {},
  ) {
    this.watcher = new QueueDepthWatcher(redis, blocking, settings, (q, d) => this.onDepth(q, d), {
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
  }

  start(): void {
    this.watcher.start();
  }

  /** Starts (or updates) scaling for a pod Robot; a tracked one is decided again with the new inputs. */
  track(robot: RobotTarget, extras: ScaleExtras = {}): void {
    const q = queueName(robot.namespace, robot.name);
    const t = this.tracked.get(q);
    if (t) {
      if (t.robot.spec.scaleDownStabilizationSeconds !== robot.spec.scaleDownStabilizationSeconds) {
        t.stabilizer = new ScaleDownStabilizer(robot.spec.scaleDownStabilizationSeconds);
      }
      t.robot = robot;
      t.extras = extras;
      if (t.depth) this.decide(q, t);
      return;
    }
    this.tracked.set(q, { robot, extras, stabilizer: new ScaleDownStabilizer(robot.spec.scaleDownStabilizationSeconds), again: false });
    this.watcher.watch(q);
  }

  /** The last decision applied (or being applied) for a Robot, and the error of the last failed apply. */
  state(robot: Pick<RobotTarget, 'name' | 'namespace'>): { depth?: QueueDepth; decision?: ScaleDecision; applied?: number; error?: string } | undefined {
    const t = this.tracked.get(queueName(robot.namespace, robot.name));
    if (!t) return undefined;
    return {
      ...(t.depth ? { depth: t.depth } : {}),
      ...(t.decision ? { decision: t.decision } : {}),
      ...(t.applied !== undefined ? { applied: t.applied } : {}),
      ...(t.error ? { error: t.error } : {}),
    };
  }

  /** Forgets what was applied, so the next decision is applied even if unchanged (a robot process died, a Deployment was edited). */
  reapply(robot: Pick<RobotTarget, 'name' | 'namespace'>): void {
    const q = queueName(robot.namespace, robot.name);
    const t = this.tracked.get(q);
    if (!t) return;
    t.applied = undefined;
    this.decide(q, t);
  }

  tracking(): string[] {
    return [...this.tracked.keys()];
  }

  untrack(robot: Pick<RobotTarget, 'name' | 'namespace'>): void {
    const q = queueName(robot.namespace, robot.name);
    clearTimeout(this.tracked.get(q)?.recheck);
    this.tracked.delete(q);
    this.watcher.unwatch(q);
  }

  lastDepth(robot: Pick<RobotTarget, 'name' | 'namespace'>): QueueDepth | undefined {
    return this.tracked.get(queueName(robot.namespace, robot.name))?.depth;
  }

  async stop(): Promise<void> {
    for (const t of this.tracked.values()) clearTimeout(t.recheck);
    await this.watcher.stop();
    await Promise.all([...this.tracked.values()].map((t) => t.inFlight));
  }

  private onDepth(queue: string, depth: QueueDepth): void {
    const t = this.tracked.get(queue);
    if (!t) return;
    t.depth = depth;
    this.decide(queue, t);
  }

  private decide(queue: string, t: Tracked): void {
    if (t.inFlight) {
      t.again = true;
      return;
    }
    const depth = t.depth;
    if (!depth) return;
    const s = t.robot.spec;
    // spec.replicas is what `kubectl scale` writes: a floor under the autoscaler, not a pin.
    const floor = Math.min(s.maxReplicas, Math.max(s.minReplicas, s.replicas ?? 0));
    const decision = scaleDecision(
      { ...t.extras, waiting: depth.waiting, active: depth.active, jobsPerPod: s.jobsPerPod, minReplicas: floor, maxReplicas: s.maxReplicas, stabilizer: t.stabilizer },
      new Date(),
    );
    t.decision = decision;
    clearTimeout(t.recheck);
    if (decision.reason === 'Stabilizing') {
      t.recheck = setTimeout(() => this.decide(queue, t), s.scaleDownStabilizationSeconds * 1000 + 50);
      t.recheck.unref();
    }
    if (decision.desired === t.applied) return;
    t.inFlight = this.runtime
      .apply(t.robot, decision.desired)
      .then(() => {
        t.applied = decision.desired;
        t.error = undefined;
        this.opts.onScaled?.({ robot: t.robot.name, namespace: t.robot.namespace, depth, decision, appliedAt: Date.now() });
        this.opts.logger?.info({ resource: `${t.robot.namespace}/${t.robot.name}`, replicas: decision.desired, reason: decision.reason }, decision.message);
      })
      .catch((err: unknown) => {
        t.error = err instanceof Error ? err.message : String(err);
        this.opts.logger?.warn({ err, resource: `${t.robot.namespace}/${t.robot.name}` }, 'scaling failed; retrying on the next event or recount');
      })
      .finally(() => {
        t.inFlight = undefined;
        if (t.again && this.tracked.get(queue) === t) {
          t.again = false;
          this.decide(queue, t);
        }
      });
  }
}
