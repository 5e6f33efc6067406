import { Gauge, type Registry } from 'prom-client';
import { QUEUE_STATES } from '../core/api-fleet.js';
import { perRegistry } from '../core/per-registry.js';
import { parseQueueName } from '../core/queue.js';
import type { ApiDeps } from './deps.js';
import { QueueDirectory } from './routes/fleet.js';

type GaugeDeps = Pick<ApiDeps, 'redis' | 'settings' | 'jobs' | 'logger'>;

/** The deps the gauge reads on scrape; set per registry, so the callback made once sees the latest. */
const sources = new WeakMap<Registry, { deps: GaugeDeps; directory: QueueDirectory }>();

const queueGauges = perRegistry((registers) => {
  const registry = registers[0];
  return new Gauge({
    name: 'rpa_queue_jobs',
    help: 'Jobs per robot queue and BullMQ state (waiting includes prioritised), read from Redis on scrape',
    labelNames: ['namespace', 'robot', 'state'],
    registers,
    async collect() {
      const source = registry ? sources.get(registry) : undefined;
      if (!source) return;
      let rows: Array<{ queue: string; counts: Awaited<ReturnType<GaugeDeps['jobs']['counts']>> }>;
      try {
        const queues = await source.directory.list();
        rows = await Promise.all(queues.map(async (queue) => ({ queue, counts: await source.deps.jobs.counts(queue) })));
      } catch (err) {
        // A scrape without queue numbers beats a failed scrape: the other metrics still count.
        source.deps.logger?.warn({ err }, 'could not read queue counts for /metrics');
        this.reset();
        return;
      }
      // Reset first, so a queue that is gone stops being reported instead of freezing at its last value.
      this.reset();
      for (const { queue, counts } of rows) {
        const { namespace, robot } = parseQueueName(queue);
        for (const state of QUEUE_STATES) this.set({ namespace, robot, state }, counts[state]);
      }
    },
  });
});

/** `rpa_queue_jobs{namespace,robot,state}` on the registry, refreshed from Redis each time it is scraped. */
export function installQueueGauges(registry: Registry, deps: GaugeDeps): void {
  sources.set(registry, { deps, directory: new QueueDirectory(deps.redis, deps.settings.prefix) });
  queueGauges(registry);
}
