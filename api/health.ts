import * as k8s from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './deps.js';

/** Readiness answers are reused this long, so a probe storm does not become a Redis or API server storm. */
const READY_CACHE_MS = 1_000;
const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}

/** `/healthz`: the process serves. `/readyz`: Redis answers and, when configured, the Kubernetes API too. */
export function installHealth(app: FastifyInstance, deps: ApiDeps): void {
  const version = deps.kc?.makeApiClient(k8s.VersionApi);
  let last: { at: number; checks: Record<string, string>; ok: boolean } | undefined;
  const check = async () => {
    if (last && Date.now() - last.at < READY_CACHE_MS) return last;
    const checks: Record<string, string> = {};
    await Promise.all([
      withTimeout(deps.redis.ping(), CHECK_TIMEOUT_MS).then(
        () => (checks.redis = 'ok'),
        (e: unknown) => (checks.redis = (e as Error).message),
      ),
      version
        ? withTimeout(version.getCode(), CHECK_TIMEOUT_MS).then(
            () => (checks.kubernetes = 'ok'),
            (e: unknown) => (checks.kubernetes = (e as Error).message),
          )
        : Promise.resolve((checks.kubernetes = 'not configured')),
    ]);
    last = { at: Date.now(), checks, ok: checks.redis === 'ok' && (checks.kubernetes === 'ok' || !version) };
    return last;
  };
  const hide = { hide: true };
  app.get('/healthz', { config: { role: 'public' }, schema: hide }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { role: 'public' }, schema: hide }, async (_req, reply) => {
    const r = await check();
    return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ok' : 'unavailable', checks: r.checks });
  });
}
