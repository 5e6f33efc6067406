import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiRole, namespaceAllowed, type Principal, roleAllows } from '../../core/api.js';
import { ApiError } from '../errors.js';
import type { KeyStore } from './keys.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Least role a caller needs; `public` routes take no API key (probes, metrics, robot connect). */
    role?: ApiRole | 'public';
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

const unauthorized = () => new ApiError(401, 'unauthorized', 'a valid API key is required: Authorization: Bearer <key>');

/**
 * 401 when there is no valid key (with a WWW-Authenticate challenge), 403 when the key is valid
 * but its role or namespaces do not cover the request. Routes under /api/ need `admin` unless
 * they say otherwise; routes elsewhere (probes, metrics, docs) are public.
 */
export function installAuth(app: FastifyInstance, keys: KeyStore): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req, reply) => {
    const role = req.routeOptions.config?.role;
    if (role === 'public' || (role === undefined && !req.url.startsWith('/api/'))) return;
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const principal = match?.[1] ? await keys.lookup(match[1]) : undefined;
    if (!principal) {
      void reply.header('www-authenticate', 'Bearer realm="rpa"');
      throw unauthorized();
    }
    req.principal = principal;
    const needed = role ?? 'admin';
    if (!roleAllows(principal.role, needed)) {
      throw new ApiError(403, 'forbidden', `this needs the ${needed} role; key "${principal.name}" has ${principal.role}`);
    }
  });
  // After validation, so the namespace is a checked value.
  app.addHook('preHandler', async (req) => {
    const ns = (req.params as { namespace?: unknown } | undefined)?.namespace;
    if (typeof ns === 'string') requireNamespace(req, ns);
  });
}

/** For routes whose namespace is not a path parameter (it is in the body, or found on the object). */
export function requireNamespace(req: FastifyRequest, namespace: string): void {
  const p = req.principal;
  if (p && !namespaceAllowed(p, namespace)) {
    throw new ApiError(403, 'forbidden', `key "${p.name}" may not touch namespace "${namespace}"`);
  }
}
