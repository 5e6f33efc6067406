import type { RobotSpec } from '../../core/robot.js';

export interface RobotTarget {
  name: string;
  namespace: string;
  uid: string;
  spec: RobotSpec;
}

export interface RuntimeState {
  /** Robot processes or pods asked for. */
  replicas: number;
  /** Those up and taking jobs. */
  ready: number;
}

/** Where robot processes run: Deployments in a cluster, or child processes in dev mode. */
export interface RobotRuntime {
  /** Makes `replicas` robots run for `robot`; scaling down drains (SIGTERM), never kills a running job. */
  apply(robot: RobotTarget, replicas: number): Promise<RuntimeState>;
  /** What runs now; undefined when nothing was ever applied for this Robot. */
  state(robot: Pick<RobotTarget, 'name' | 'namespace'>): RuntimeState | undefined | Promise<RuntimeState | undefined>;
  /** Makes busy robots the last to go on scale-down, where the runtime chooses victims itself. */
  protectBusyPods?(robot: Pick<RobotTarget, 'name' | 'namespace'>, busyJobsByPod: ReadonlyMap<string, number>): Promise<number>;
  /** Stops every robot of `robot` (drained). */
  remove(robot: Pick<RobotTarget, 'name' | 'namespace'>): Promise<void>;
  close(): Promise<void>;
}
