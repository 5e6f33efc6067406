/**
 * The informer staleness gauge. Computed at scrape time from each informer's last contact with the
 * API server, so a watch that silently died shows up as a growing age without any timer.
 */
import { Gauge, type Registry } from 'prom-client';

type AgeSource = () => number;

const sourcesByRegistry = new WeakMap<Registry, Map<string, AgeSource>>();

/**
 * Reports `rpa_informer_last_event_age_seconds{resource}` on `registry` from `age` until the
 * returned function is called. One gauge per registry, shared by all informers on it.
 */
export function trackStaleness(registry: Registry, resource: string, age: AgeSource): () => void {
  let sources = sourcesByRegistry.get(registry);
  if (sources === undefined) {
    const live = new Map<string, AgeSource>();
    sources = live;
    sourcesByRegistry.set(registry, live);
    new Gauge({
      name: 'rpa_informer_last_event_age_seconds',
      help: 'Seconds since the informer last heard from the API server (list, watch event or bookmark)',
      labelNames: ['resource'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [label, source] of live) this.set({ resource: label }, source());
      },
    });
  }
  const live = sources;
  live.set(resource, age);
  return () => {
    if (live.get(resource) === age) live.delete(resource);
  };
}
