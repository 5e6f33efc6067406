import type { Registry } from 'prom-client';

/**
 * prom-client refuses a second metric of the same name in one registry, yet every controller
 * rebuilt after a leadership change asks for its metrics again: one set per registry, made on
 * first use. Without a registry the metrics are kept but not exported.
 */
export function perRegistry<T>(make: (registers: Registry[]) => T): (registry: Registry | undefined) => T {
  const made = new WeakMap<Registry, T>();
  return (registry) => {
    if (registry === undefined) return make([]);
    let metrics = made.get(registry);
    if (metrics === undefined) {
      metrics = make([registry]);
      made.set(registry, metrics);
    }
    return metrics;
  };
}
