import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
}

/**
 * Who the token belongs to, if that key holds at least `needed`; else the 401 (with the Bearer
 * challenge on the reply) or 403 to answer. `how` tells a caller without a key how to give one.
 */
export async function authorize(
  keys: KeyStore,
  token: string | undefined,
  needed: ApiRole,
  reply: FastifyReply,
  how = 'Authorization: Bearer <key>',
): Promise<Principal> {
  const principal = token ? await keys.lookup(token) : undefined;
  if (!principal) {
    void reply.header('www-authenticate', 'Bearer realm="rpa"');
    throw new ApiError(401, 'unauthorized', `a valid API key is required: ${how}`);
  }
  if (!roleAllows(principal.role, needed)) {
    throw new ApiError(403, 'forbidden', `this needs the ${needed} role; key "${principal.name}" has ${principal.role}`);
  }
  return principal;
}

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
    req.principal = await authorize(keys, bearerToken(req.headers.authorization), role ?? 'admin', reply);
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
