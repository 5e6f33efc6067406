import * as k8s from '@kubernetes/client-node';

/** HTTP status of a failed API call, when the client reported one. */
export function apiStatus(error: unknown): number | undefined {
  if (error instanceof k8s.ApiException) return error.code;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (error: unknown): boolean => apiStatus(error) === 404;
/** 409: the object exists already, or an update lost a resourceVersion race. */
export const isConflict = (error: unknown): boolean => apiStatus(error) === 409;

/**
 * One line for a log: the API's Status message when there is one ("storage is (re)initializing"),
 * not the exception with its headers and the body twice.
 */
export function describeApiError(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    const body: unknown = typeof error.body === 'string' ? safeJson(error.body) : error.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    return `HTTP ${error.code}${typeof message === 'string' ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
