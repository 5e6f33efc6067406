/**
 * Shapes every API client relies on: the error body, roles, API key records. Route bodies and
 * responses live beside them in core/ (core/api-*.ts) so the OpenAPI document, the server's
 * validation and TypeScript types all come from one place.
 */
import { z } from 'zod';
import { namespaceName } from './meta.js';

/** Each role can do what the ones before it can. */
export const API_ROLES = ['viewer', 'operator', 'admin'] as const;
export const apiRole = z.enum(API_ROLES);
export type ApiRole = z.infer<typeof apiRole>;

export function roleAllows(held: ApiRole, needed: ApiRole): boolean {
  return API_ROLES.indexOf(held) >= API_ROLES.indexOf(needed);
}

/** Every 4xx and 5xx answer has this body; `code` is stable, `message` is for people. */
export const errorBody = z
  .object({
    error: z.object({
      code: z.string().describe('stable machine-readable code, e.g. invalid_request, not_found, forbidden'),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBody>;

/** One API key as stored in the API keys Secret (one data entry per key, named after the key). */
export const apiKeyRecord = z.object({
  /** sha256 hex of the bearer token. */
  hash: z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be a sha256 hex digest' }),
  role: apiRole,
  /** Namespaces the key may touch; `*` is all of them. */
  namespaces: z.array(z.union([namespaceName, z.literal('*')])).min(1).default(['*']),
});
export type ApiKeyRecord = z.infer<typeof apiKeyRecord>;

/** Who is calling, once a bearer token checked out. */
export interface Principal {
  name: string;
  role: ApiRole;
  namespaces: readonly string[];
}

export function namespaceAllowed(p: Principal, namespace: string): boolean {
  return p.namespaces.includes('*') || p.namespaces.includes(namespace);
}

/** Path parameter shared by every namespaced route. */
export const namespaceParams = z.object({ namespace: namespaceName });
