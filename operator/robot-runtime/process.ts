import { existsSync } from 'node:fs';
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { Logger } from '../../core/logger.js';
import type { RobotRuntime, RobotTarget, RuntimeState } from './types.js';

/** bin/rpa.js of this install, found upwards: from the sources and from the compiled dist/ alike. */
const RPA_BIN = findBin(import.meta.dirname);

function findBin(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'bin', 'rpa.js');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return join(from, '..', '..', 'bin', 'rpa.js');
  }
}

interface Proc {
  child: ChildProcess;
  id: string;
  ready: boolean;
  exited: Promise<void>;
}

export interface ProcessRuntimeOptions {
  redisUrl: string;
  /** Extra environment for every robot (the data-plane prefix in tests, say). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

/**
 * Dev-mode robots: child processes of the operator running `rpa robot`, so a control plane with
 * no kubelet (the local one in e2e/cluster) still gets robots that scale with the queue.
 * Scaling down sends SIGTERM to the newest processes: they drain like pods do.
 */
export class ProcessRobotRuntime implements RobotRuntime {
  private readonly robots = new Map<string, Proc[]>();
  private seq = 0;

  constructor(private readonly opts: ProcessRuntimeOptions) {}

  async apply(robot: RobotTarget, replicas: number): Promise<RuntimeState> {
    const key = `${robot.namespace}/${robot.name}`;
    const procs = this.robots.get(key) ?? [];
    this.robots.set(key, procs);
    while (procs.length < replicas) procs.push(this.spawn(robot));
    const surplus = procs.splice(replicas);
    for (const p of surplus) p.child.kill('SIGTERM');
    return { replicas: procs.length, ready: procs.filter((p) => p.ready).length };
  }

  async remove(robot: Pick<RobotTarget, 'name' | 'namespace'>): Promise<void> {
    const key = `${robot.namespace}/${robot.name}`;
    const procs = this.robots.get(key) ?? [];
    this.robots.delete(key);
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
  }

  state(robot: Pick<RobotTarget, 'name' | 'namespace'>): RuntimeState {
    const procs = this.robots.get(`${robot.namespace}/${robot.name}`) ?? [];
    return { replicas: procs.length, ready: procs.filter((p) => p.ready).length };
  }

  /** For 'exit' handlers, which cannot wait: no drain, robots' jobs are taken again after the lock expires. */
  killNow(): void {
    for (const p of [...this.robots.values()].flat()) p.child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    const all = [...this.robots.values()].flat();
    this.robots.clear();
    for (const p of all) p.child.kill('SIGTERM');
    await Promise.all(all.map((p) => p.exited));
  }

  private spawn(robot: RobotTarget): Proc {
    const id = `${robot.name}-p${++this.seq}`;
    const child = spawn(process.execPath, [RPA_BIN, 'robot', '--name', robot.name, '--namespace', robot.namespace, '--id', id], {
      env: {
        ...process.env,
        ...this.opts.env,
        REDIS_URL: this.opts.redisUrl,
        // A SIGKILLed operator cannot stop its robots: they watch for it and drain when it is gone.
        RPA_PARENT_PID: String(process.pid),
        RPA_CONCURRENCY: String(robot.spec.jobsPerPod),
        RPA_CAPABILITIES: robot.spec.capabilities.join(','),
        ...Object.fromEntries(robot.spec.env.map((e) => [e.name, e.value])),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc: Proc = { child, id, ready: false, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
    const log = this.opts.logger?.child({ robot: robot.name, robotId: id });
    child.stdout?.on('data', (d: Buffer) => {
      if (!proc.ready && d.toString().includes('ready on queue')) proc.ready = true;
    });
    // The robot's own JSON log lines, passed through at debug so a dev session can follow them.
    child.stderr?.on('data', (d: Buffer) => log?.debug(d.toString().trimEnd()));
    child.once('exit', (code, signal) => {
      log?.info({ code, signal }, 'robot process exited');
      const key = `${robot.namespace}/${robot.name}`;
      const list = this.robots.get(key);
      const i = list?.indexOf(proc) ?? -1;
      // A robot that died on its own is replaced at the next reconcile, as a Deployment would.
      if (list && i >= 0) list.splice(i, 1);
    });
    return proc;
  }
}
