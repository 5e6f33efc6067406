import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import type { ErrorBody } from '../core/api.js';

/** An answer other than success, with the body shape every route shares. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, details?: unknown) => new ApiError(409, 'conflict', message, details);
export const badRequest = (message: string, details?: unknown) => new ApiError(400, 'invalid_request', message, details);

function body(code: string, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details !== undefined ? { details } : {}) } };
}

/** Fastify's own error codes for client mistakes, mapped onto ours. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
};

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) return reply.code(err.statusCode).send(body(err.code, err.message, err.details));
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => {
        const path = [err.validationContext, ...String(v.instancePath ?? '').split('/').filter(Boolean)].filter(Boolean).join('.');
        return { path, message: v.message ?? 'invalid' };
      });
      const first = issues[0];
      return reply.code(400).send(body('invalid_request', first ? `${first.path}: ${first.message}` : 'invalid request', { issues }));
    }
    if (isResponseSerializationError(err)) {
      req.log.error({ err, url: req.url }, 'response did not match its schema');
      return reply.code(500).send(body('internal', 'the server built an invalid response'));
    }
    const status = err.statusCode ?? 500;
    if (status === 429) return reply.code(429).send(body('rate_limited', err.message));
    if (status >= 400 && status < 500) {
      return reply.code(status).send(body(FASTIFY_CODES[err.code] ?? 'invalid_request', err.message));
    }
    req.log.error({ err, url: req.url }, 'request failed');
    return reply.code(status >= 500 ? status : 500).send(body(status === 503 ? 'unavailable' : 'internal', status === 503 ? err.message : 'internal error'));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(body('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));
}
