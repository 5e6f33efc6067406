import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The robot's Prometheus metrics; names follow Prometheus conventions (units, _total). */
export class RobotMetrics {
  readonly registry = new Registry();
  readonly jobDuration: Histogram<'queue' | 'status'>;
  readonly dispatchLatency: Histogram<'queue'>;
  readonly nodeDuration: Histogram<'type' | 'status'>;
  readonly running: Gauge;
  /** Set by the agent: how many jobs run now. */
  runningNow: () => number = () => 0;
  readonly slots: Gauge<'queue'>;
  readonly resumed: Counter<'queue'>;
  private server?: Server;

  constructor(labels: Record<string, string>) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry, prefix: 'rpa_robot_' });
    const registers = [this.registry];
    this.jobDuration = new Histogram({
      name: 'rpa_robot_job_duration_seconds',
      // Its _count is the jobs finished by status: a separate counter would cost another update per job.
      help: 'Run time of a job attempt on this robot, by final status.',
      labelNames: ['queue', 'status'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      registers,
    });
    this.dispatchLatency = new Histogram({
      name: 'rpa_robot_dispatch_latency_seconds',
      help: 'Time from enqueue to the start of the first attempt.',
      labelNames: ['queue'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.nodeDuration = new Histogram({
      name: 'rpa_robot_node_duration_seconds',
      help: 'Run time of a workflow node attempt.',
      labelNames: ['type', 'status'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
    // Read at scrape time rather than kept up to date per job.
    this.running = new Gauge({
      name: 'rpa_robot_running_jobs',
      help: 'Jobs running on this robot now.',
      registers,
      collect: () => this.running.set(this.runningNow()),
    });
    this.slots = new Gauge({ name: 'rpa_robot_job_slots', help: 'Jobs this robot runs at once (its concurrency).', labelNames: ['queue'], registers });
    this.resumed = new Counter({ name: 'rpa_robot_resumed_jobs_total', help: 'Jobs resumed from a checkpoint after a crash or drain.', labelNames: ['queue'], registers });
  }

  /**
   * Label children bound once per queue: prom-client hashes the label set on every unbound
   * call, which shows up at thousands of jobs a second.
   */
  forQueue(queue: string) {
    const byStatus = <T>(make: (status: string) => T) => {
      const cache = new Map<string, T>();
      return (status: string): T => {
        let c = cache.get(status);
        if (!c) cache.set(status, (c = make(status)));
        return c;
      };
    };
    return {
      dispatchLatency: this.dispatchLatency.labels({ queue }),
      resumed: this.resumed.labels({ queue }),
      jobDuration: byStatus((status) => this.jobDuration.labels({ queue, status })),
    };
  }

  /** Serves /metrics; port 0 picks a free port. Resolves to the bound port. */
  async listen(port: number, host: string): Promise<number> {
    this.server = createServer((req, res) => {
      if (req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, resolve);
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
