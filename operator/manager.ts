/**
 * The operator process: shared informers (warm on every replica, so a standby takes over with a
 * full cache), the four controllers (only on the leader), the robot runtime, metrics and probes.
 * `rpa operator` and the e2e tests both run this.
 */
import * as k8s from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import { JobClient } from '../dataplane/jobs.js';
import { PresenceStore } from '../dataplane/presence.js';
import { createRedis, pingRedis } from '../dataplane/redis.js';
import { dataPlaneToEnv } from '../dataplane/settings.js';
import type { OperatorConfig } from './config.js';
import { JobController } from './controllers/job-controller.js';
import { RobotController } from './controllers/robot-controller.js';
import type { ScaleEvent } from './controllers/robot-scaler.js';
import { ScheduleController } from './controllers/schedule-controller.js';
import { WorkflowController } from './controllers/workflow-controller.js';
import { metricsRoute, probeRoute, SmallServer } from './http.js';
import { KubernetesRobotRuntime } from './robot-runtime/kubernetes.js';
import { ProcessRobotRuntime } from './robot-runtime/process.js';
import type { RobotRuntime } from './robot-runtime/types.js';
import { EventRecorder } from './runtime/events.js';
import { LeaderElector } from './runtime/leader.js';
import { SharedInformers } from './runtime/shared-informers.js';

export interface ManagerOptions {
  logger?: Logger;
  /** Extra environment for process-runtime robots (the data-plane prefix in tests). */
  robotEnv?: NodeJS.ProcessEnv;
  /** Serve /metrics and probes; tests that run several managers may turn it off. Default true. */
  serve?: boolean;
  /** Called after every scale the Robot controller applied (benchmarks, tests). */
  onScaled?: (e: ScaleEvent) => void;
  /** Debounce of queue events before a scale decision, in ms. */
  scaleDebounceMs?: number;
  /** Robot status refresh period, in ms. */
  robotStatusIntervalMs?: number;
}

interface Controllers {
  workflow: WorkflowController;
  job: JobController;
  robot: RobotController;
  schedule: ScheduleController;
}

export class OperatorManager {
  readonly registry = new Registry();
  readonly informers: SharedInformers;
  readonly runtime: RobotRuntime;
  private readonly redis: Redis;
  private readonly blocking: Redis;
  private readonly client: JobClient;
  private readonly events: EventRecorder;
  private readonly elector: LeaderElector | undefined;
  private readonly metricsServer: SmallServer;
  private readonly healthServer: SmallServer;
  private controllers: Controllers | undefined;
  private leading: Promise<void> | undefined;
  private stopping = false;
  metricsPort = 0;
  healthPort = 0;

  constructor(
    private readonly config: OperatorConfig,
    private readonly kc: k8s.KubeConfig,
    private readonly opts: ManagerOptions = {},
  ) {
    const logger = opts.logger;
    collectDefaultMetrics({ register: this.registry });
    this.redis = createRedis(config.redisUrl);
    this.blocking = createRedis(config.redisUrl);
    this.client = new JobClient(this.redis, config.dataPlane);
    this.informers = new SharedInformers(kc, {
      ...(config.namespace ? { namespace: config.namespace } : {}),
      resyncPeriodMs: config.resyncSeconds * 1000,
      registry: this.registry,
      ...(logger ? { logger } : {}),
    });
    this.runtime =
      config.runtime === 'process'
        ? new ProcessRobotRuntime({ redisUrl: config.redisUrl, env: { ...dataPlaneToEnv(config.dataPlane), ...opts.robotEnv }, ...(logger ? { logger } : {}) })
        : new KubernetesRobotRuntime(kc, {
            defaultImage: config.robotImage,
            ...(config.redisSecret ? { redisUrlSecret: config.redisSecret } : { redisUrl: config.redisUrl }),
          });
    this.events = new EventRecorder(kc, 'rpa-operator', config.identity, logger);
    this.elector = config.leaderElection.enabled
      ? new LeaderElector(kc, {
          namespace: config.leaderElection.namespace,
          name: config.leaderElection.leaseName,
          identity: config.identity,
          leaseDurationMs: config.leaderElection.leaseDurationSeconds * 1000,
          renewDeadlineMs: config.leaderElection.renewDeadlineSeconds * 1000,
          retryPeriodMs: config.leaderElection.retryPeriodSeconds * 1000,
          onStartedLeading: (signal) => this.lead(signal),
          ...(logger ? { logger } : {}),
        })
      : undefined;
    this.metricsServer = new SmallServer({ '/metrics': metricsRoute(this.registry) });
    this.healthServer = new SmallServer({
      '/healthz': probeRoute({ process: () => !this.stopping }),
      '/readyz': probeRoute({
        informers: () => this.informers.hasSynced(),
        redis: () => pingRedis(this.redis, 1_000).then(() => true),
      }),
    });
  }

  isLeader(): boolean {
    return this.controllers !== undefined;
  }

  /** Starts caches, probes and the election; returns once caches are synced (not once leading). */
  async start(): Promise<void> {
    await pingRedis(this.redis);
    if (this.opts.serve ?? true) {
      this.metricsPort = await this.metricsServer.listen(this.config.metricsPort, this.config.bindHost);
      this.healthPort = await this.healthServer.listen(this.config.healthPort, this.config.bindHost);
    }
    this.build();
    await this.informers.start();
    if (this.elector) this.elector.start();
    else this.leading = this.lead(new AbortController().signal);
    this.opts.logger?.info(
      { runtime: this.config.runtime, namespace: this.config.namespace ?? '(all)', metricsPort: this.metricsPort, healthPort: this.healthPort },
      this.elector ? 'caches synced; waiting for leadership' : 'caches synced; leader election off',
    );
  }

  /** Resolves once this replica leads and its controllers run. */
  async waitForLeadership(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isLeader()) {
      if (Date.now() > deadline) throw new Error(`not leader within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.elector?.stop();
    await this.stepDown();
    await this.leading;
    await this.informers.stop();
    await this.runtime.close();
    await this.events.flush();
    await this.client.close();
    this.blocking.disconnect();
    this.redis.disconnect();
    await Promise.all([this.metricsServer.close(), this.healthServer.close()]);
  }

  /** For 'exit' handlers: robot processes of the process runtime are killed, not left behind. */
  killRobotsNow(): void {
    if (this.runtime instanceof ProcessRobotRuntime) this.runtime.killNow();
  }

  /** Controllers are built up front (they register informer handlers before the caches fill) and started on leadership. */
  private build(): void {
    const logger = this.opts.logger;
    const common = { registry: this.registry, events: this.events, ...(logger ? { logger } : {}) };
    // Built before the Robot controller it pokes, so the hook reaches it through this variable.
    const hooks: { scheduleChanged?: (ns: string) => void } = {};
    const schedule = new ScheduleController(this.kc, this.informers, { ...common, workers: 2, onScheduleChanged: (ns) => hooks.scheduleChanged?.(ns) });
    const robot = new RobotController(
      this.kc,
      this.informers,
      { runtime: this.runtime, client: this.client, presence: new PresenceStore(this.redis, this.config.dataPlane), redis: this.redis, blockingRedis: this.blocking, settings: this.config.dataPlane },
      {
        ...common,
        upcomingRuns: (ns, target) => schedule.upcomingRuns(ns, target),
        ...(this.opts.onScaled ? { onScaled: this.opts.onScaled } : {}),
        ...(this.opts.scaleDebounceMs !== undefined ? { debounceMs: this.opts.scaleDebounceMs } : {}),
        ...(this.opts.robotStatusIntervalMs !== undefined ? { statusIntervalMs: this.opts.robotStatusIntervalMs } : {}),
      },
    );
    hooks.scheduleChanged = (ns) => robot.pokeWarmups(ns);
    const job = new JobController(this.kc, this.informers, this.client, {
      ...common,
      workers: this.config.workers,
      load: (ns, name) => robot.scaler.state({ namespace: ns, name })?.depth,
    });
    const workflow = new WorkflowController(this.kc, this.informers, { registry: this.registry, workers: 2, ...(logger ? { logger } : {}) });
    this.pending = { workflow, job, robot, schedule };
  }

  private pending: Controllers | undefined;

  private async lead(signal: AbortSignal): Promise<void> {
    const c = this.pending;
    if (!c || this.stopping) return;
    this.controllers = c;
    for (const ctl of [c.workflow, c.robot, c.job, c.schedule]) ctl.start();
    this.opts.logger?.info({ identity: this.config.identity }, 'leading: controllers started');
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (!this.stopping) {
      this.opts.logger?.warn({ identity: this.config.identity }, 'lost leadership: stopping controllers');
      await this.stepDown();
      // Work queues cannot restart after shutdown: a replica that lost the lease is built afresh
      // so it can lead again later, with the same warm caches.
      this.build();
    }
  }

  private async stepDown(): Promise<void> {
    const c = this.controllers;
    this.controllers = undefined;
    if (!c) return;
    await Promise.all([c.workflow.stop(), c.job.stop(), c.robot.stop(), c.schedule.stop()]);
    // Process-runtime robots belong to the leader; the new one starts its own.
    if (this.runtime instanceof ProcessRobotRuntime && !this.stopping) await this.runtime.close();
  }
}
