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
  /** Stops every robot of `robot` (drained). */
  remove(robot: Pick<RobotTarget, 'name' | 'namespace'>): Promise<void>;
  close(): Promise<void>;
}
