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
