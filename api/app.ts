import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { VERSION } from '../core/version.js';
import { installAuth } from './auth/plugin.js';
import type { ApiDeps } from './deps.js';
import { installErrorHandlers } from './errors.js';
import { installHealth } from './health.js';
import { installHttpMetrics } from './metrics.js';
import { installQueueGauges } from './queue-gauges.js';
import { apiRoutes } from './routes/index.js';

export interface ApiOptions {
  /** Largest request body accepted; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
  /** Requests per minute per API key (per address before authentication). Default 1200. */
  rateLimitPerMinute?: number;
  /** Route plugins under /api/v1; default all of them (routes/index.ts). */
  routes?: readonly FastifyPluginAsync<{ deps: ApiDeps }>[];
  /** Pino logger options or false; tests turn it off. */
  logger?: boolean | object;
}

export const API_DEFAULTS = { bodyLimit: 1024 * 1024, rateLimitPerMinute: 1200 } as const;

/** The whole API as one Fastify instance, not yet listening: tests drive it with inject(). */
export async function buildApi(deps: ApiDeps, options: ApiOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ? { ...(typeof options.logger === 'object' ? options.logger : {}), serializers: { req: redactedRequest } } : false,
    bodyLimit: options.bodyLimit ?? API_DEFAULTS.bodyLimit,
    // Ids are UUIDs and names DNS labels: nothing legitimate needs long URLs.
    routerOptions: { maxParamLength: 256 },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'rpa-operator API', version: VERSION, description: 'Jobs, workflows, robots, schedules and fleet of a Kubernetes-native RPA orchestrator.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (rpak_...)' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  await app.register(fastifyWebsocket, { options: { maxPayload: 1024 * 1024 } });
  installAuth(app, deps.keys);
  // After authentication (preHandler), so the limit is per key rather than per address.
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'preHandler',
    max: options.rateLimitPerMinute ?? API_DEFAULTS.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => (req.principal ? `key:${req.principal.name}` : `ip:${req.ip}`),
    allowList: (req) => !req.url.startsWith('/api/'),
  });
  installHealth(app, deps);
  installHttpMetrics(app, deps.registry);
  installQueueGauges(deps.registry, deps);
  app.get('/openapi.json', { config: { role: 'public' }, schema: { hide: true } }, async () => app.swagger());
  await app.register(
    async (v1) => {
      for (const routes of options.routes ?? apiRoutes) await v1.register(routes, { deps });
    },
    { prefix: '/api/v1' },
  );
  return app;
}

/** Browsers pass API keys in `?access_token=` on WebSocket and EventSource: never log them. */
function redactedRequest(req: { method: string; url: string; ip?: string }) {
  return { method: req.method, url: req.url.replace(/([?&]access_token=)[^&]*/gi, '$1[redacted]'), ip: req.ip };
}
