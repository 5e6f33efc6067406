import { timingSafeEqual } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION } from '../../core/meta.js';
import { tokenHash, tokenSecretName } from '../../core/tokens.js';
import { isNotFound } from '../../operator/runtime/api-errors.js';

/** What a join token is checked against: the Robot must be a remote one and the Secret's `tokenHash` must match. */
export type TokenCheck = 'ok' | 'denied' | 'unavailable';

interface Entry {
  at: number;
  /** Undefined: no remote Robot of that name or no token Secret for it. */
  hash?: string;
}

export interface RobotTokenOptions {
  /** How long one Robot's token hash is reused before it is read again; rotation takes effect after at most this. */
  cacheMs?: number;
}

export const ROBOT_TOKEN_DEFAULTS = { cacheMs: 5_000 } as const;

/**
 * Checks join tokens against the Kubernetes API, caching each Robot's hash briefly so a fleet
 * reconnecting at once costs one read per Robot, not one per machine. Whether the Robot
 * exists is never part of the answer: a wrong token and an unknown Robot are both `denied`.
 */
export class RobotTokens {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Entry>>();
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;
  private readonly cacheMs: number;

  constructor(kc: k8s.KubeConfig, opts: RobotTokenOptions = {}) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.cacheMs = opts.cacheMs ?? ROBOT_TOKEN_DEFAULTS.cacheMs;
  }

  async check(namespace: string, robot: string, token: string): Promise<TokenCheck> {
    let entry: Entry;
    try {
      entry = await this.entry(namespace, robot);
    } catch {
      return 'unavailable';
    }
    if (!entry.hash) return 'denied';
    const given = Buffer.from(tokenHash(token), 'utf8');
    const wanted = Buffer.from(entry.hash, 'utf8');
    return given.length === wanted.length && timingSafeEqual(given, wanted) ? 'ok' : 'denied';
  }

  private async entry(namespace: string, robot: string): Promise<Entry> {
    const key = `${namespace}/${robot}`;
    const cached = this.entries.get(key);
    if (cached && Date.now() - cached.at < this.cacheMs) return cached;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.read(namespace, robot).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const entry = await pending;
    this.entries.set(key, entry);
    if (this.entries.size > 10_000) this.entries.delete(this.entries.keys().next().value as string);
    return entry;
  }

  private async read(namespace: string, robot: string): Promise<Entry> {
    const at = Date.now();
    try {
      const obj = (await this.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: 'robots', name: robot })) as {
        spec?: { mode?: unknown };
      };
      if (obj.spec?.mode !== 'remote') return { at };
      const secret = await this.core.readNamespacedSecret({ name: tokenSecretName(robot), namespace });
      const encoded = secret.data?.tokenHash;
      return encoded ? { at, hash: Buffer.from(encoded, 'base64').toString('utf8').trim() } : { at };
    } catch (err) {
      if (isNotFound(err)) return { at };
      throw err;
    }
  }
}
