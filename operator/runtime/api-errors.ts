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

/** One field the API server rejected (422), as its Status reports it. */
export interface FieldCause {
  field?: string;
  reason?: string;
  message?: string;
}

/** The `Status` object a failed call's body carries, as far as it can be read. */
export interface KubeStatus {
  message?: string;
  details?: { causes?: FieldCause[] };
}

export function statusBody(error: k8s.ApiException<unknown>): KubeStatus {
  const raw: unknown = error.body;
  if (typeof raw !== 'string') return (raw ?? {}) as KubeStatus;
  try {
    return JSON.parse(raw) as KubeStatus;
  } catch {
    return {};
  }
}

/**
 * One line for a log: the API's Status message when there is one ("storage is (re)initializing"),
 * not the exception with its headers and the body twice.
 */
export function describeApiError(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    const message = statusBody(error).message;
    return `HTTP ${error.code}${typeof message === 'string' ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}
