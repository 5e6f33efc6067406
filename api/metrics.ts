import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import { perRegistry } from '../core/per-registry.js';

const httpMetrics = perRegistry((registers) => ({
  duration: new Histogram({
    name: 'http_request_duration_seconds',
    help: 'API request duration by route template and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  }),
}));

/** Request durations labelled by route template (`/api/v1/namespaces/:namespace/jobs/:id`), never the raw URL. */
export function installHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const m = httpMetrics(registry);
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    m.duration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { config: { role: 'public' }, schema: { hide: true } }, async (_req, reply) => {
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
