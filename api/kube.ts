import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../core/meta.js';
import type { ResourceMetadata } from '../core/api-resources.js';
import type { ApiDeps } from './deps.js';
import { ApiError, badRequest, conflict, notFound } from './errors.js';
import { statusBody } from '../operator/runtime/api-errors.js';

/** A custom object as the API server returns it; the spec is checked by whoever reads it. */
export interface StoredObject {
  apiVersion?: string;
  kind?: string;
  metadata?: k8s.V1ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

const unavailable = (message: string) => new ApiError(503, 'unavailable', message);

/**
 * A Kubernetes API failure in the API's error shape: 404 not_found, 409 conflict, 422 (the CRD's
 * own validation) invalid_request with the field causes, and the API server being unreachable or
 * overloaded unavailable. Anything else stays an internal error.
 */
export function kubeError(err: unknown, what: string): unknown {
  // The client raises ApiException for every HTTP answer; anything else means no answer came.
  if (!(err instanceof k8s.ApiException)) return unavailable(`the Kubernetes API is unreachable: ${err instanceof Error ? err.message : String(err)}`);
  const status = statusBody(err);
  switch (err.code) {
    case 404:
      return notFound(what);
    case 409:
      return conflict(status.message ?? `${what} was changed or exists already`);
    case 400:
    case 422: {
      const causes = status.details?.causes ?? [];
      const first = causes.find((c) => c.field) ?? causes[0];
      const message = first ? `${first.field ? `${first.field}: ` : ''}${first.message ?? 'invalid'}` : (status.message ?? 'rejected by the Kubernetes API');
      return badRequest(message, { causes });
    }
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return unavailable(`the Kubernetes API answered ${err.code}${status.message ? `: ${status.message}` : ''}`);
    default:
      return err;
  }
}

/** Flattens object metadata for answers; the API server always sets the fields marked required. */
export function metadataOf(obj: StoredObject): ResourceMetadata {
  const m = obj.metadata ?? {};
  return {
    name: m.name ?? '',
    namespace: m.namespace ?? '',
    uid: m.uid ?? '',
    resourceVersion: m.resourceVersion ?? '',
    ...(m.generation !== undefined ? { generation: m.generation } : {}),
    createdAt: m.creationTimestamp ? new Date(m.creationTimestamp).toISOString() : '',
    ...(m.labels ? { labels: m.labels } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  };
}

/**
 * One custom resource kind (by plural) in the rpa.dev group, with every failure already mapped
 * to an ApiError. Each call takes the namespace: routes are namespaced like Kubernetes.
 */
export class CustomResources {
  constructor(
    private readonly api: k8s.CustomObjectsApi,
    readonly kind: string,
    private readonly plural: string,
  ) {}

  private what(namespace: string, name?: string): string {
    return name ? `${this.kind} "${namespace}/${name}"` : `${this.kind}s in "${namespace}"`;
  }

  private ref(namespace: string) {
    return { group: API_GROUP, version: API_VERSION, namespace, plural: this.plural };
  }

  private async call<T>(what: string, op: () => Promise<unknown>): Promise<T> {
    try {
      return (await op()) as T;
    } catch (err) {
      throw kubeError(err, what);
    }
  }

  async list(namespace: string): Promise<StoredObject[]> {
    const list = await this.call<{ items?: StoredObject[] }>(this.what(namespace), () => this.api.listNamespacedCustomObject(this.ref(namespace)));
    return [...(list.items ?? [])].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  }

  get(namespace: string, name: string): Promise<StoredObject> {
    return this.call(this.what(namespace, name), () => this.api.getNamespacedCustomObject({ ...this.ref(namespace), name }));
  }

  /** Undefined instead of not_found, for create-or-update. */
  async find(namespace: string, name: string): Promise<StoredObject | undefined> {
    try {
      return await this.get(namespace, name);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  create(namespace: string, name: string, spec: unknown, extra: Pick<k8s.V1ObjectMeta, 'labels' | 'annotations'> = {}): Promise<StoredObject> {
    const body = { apiVersion: API_GROUP_VERSION, kind: this.kind, metadata: { ...extra, name, namespace }, spec };
    return this.call(this.what(namespace, name), () => this.api.createNamespacedCustomObject({ ...this.ref(namespace), body }));
  }

  /** Replaces the spec; `existing.metadata.resourceVersion` makes a concurrent write a 409. */
  replace(existing: StoredObject, spec: unknown, extra: Pick<k8s.V1ObjectMeta, 'labels' | 'annotations'> = {}): Promise<StoredObject> {
    const namespace = existing.metadata?.namespace ?? '';
    const name = existing.metadata?.name ?? '';
    const body = { apiVersion: API_GROUP_VERSION, kind: this.kind, metadata: { ...existing.metadata, ...extra }, spec };
    return this.call(this.what(namespace, name), () => this.api.replaceNamespacedCustomObject({ ...this.ref(namespace), name, body }));
  }

  patch(namespace: string, name: string, body: object): Promise<StoredObject> {
    return this.call(this.what(namespace, name), () => this.api.patchNamespacedCustomObject({ ...this.ref(namespace), name, body }, mergePatch));
  }

  async delete(namespace: string, name: string): Promise<void> {
    await this.call(this.what(namespace, name), () => this.api.deleteNamespacedCustomObject({ ...this.ref(namespace), name }));
  }
}

/**
 * The resource client when the API runs with a cluster, else a function that answers 503: the
 * routes stay registered (and documented) either way.
 */
export function customResources(deps: ApiDeps, kind: string, plural: string): () => CustomResources {
  if (!deps.kc) {
    return () => {
      throw unavailable('this API runs without a Kubernetes cluster; Workflows, Robots and Schedules are not available');
    };
  }
  const resources = new CustomResources(deps.kc.makeApiClient(k8s.CustomObjectsApi), kind, plural);
  return () => resources;
}
