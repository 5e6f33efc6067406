import * as k8s from '@kubernetes/client-node';
import { type ApiKeyRecord, apiKeyRecord, type Principal } from '../../core/api.js';
import type { Logger } from '../../core/logger.js';
import { tokenHash } from '../../core/tokens.js';
import { isNotFound } from '../../operator/runtime/api-errors.js';

/** Finds who a bearer token belongs to. Tokens are compared by hash; the store never sees them stored in clear. */
export interface KeyStore {
  lookup(token: string): Promise<Principal | undefined>;
}

/** Keys known up front: `RPA_ADMIN_TOKEN` on a fresh install, and tests. */
export class StaticKeyStore implements KeyStore {
  private readonly byHash = new Map<string, Principal>();

  constructor(keys: readonly (Principal & { token: string })[] = []) {
    for (const k of keys) this.byHash.set(tokenHash(k.token), { name: k.name, role: k.role, namespaces: k.namespaces });
  }

  async lookup(token: string): Promise<Principal | undefined> {
    return this.byHash.get(tokenHash(token));
  }
}

/** Tries each store in turn. */
export class ChainedKeyStore implements KeyStore {
  constructor(private readonly stores: readonly KeyStore[]) {}

  async lookup(token: string): Promise<Principal | undefined> {
    for (const s of this.stores) {
      const p = await s.lookup(token);
      if (p) return p;
    }
    return undefined;
  }
}

export const API_KEYS_SECRET = 'rpa-api-keys';
/** How often the Secret is read again; a key created or revoked takes effect within this. */
const RELOAD_MS = 10_000;
/** An unknown token re-reads the Secret at most this often, so guessing cannot hammer the API server. */
const MISS_RELOAD_MS = 1_000;

/**
 * API keys in a Secret, one data entry per key: the entry's name is the key's name, its value the
 * JSON of an apiKeyRecord (`{"hash":"<sha256 hex>","role":"operator","namespaces":["finance"]}`).
 * A malformed entry is skipped with a log line; the others keep working.
 */
export class SecretKeyStore implements KeyStore {
  private readonly core: k8s.CoreV1Api;
  private byHash = new Map<string, Principal>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    kc: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly name = API_KEYS_SECRET,
    private readonly logger?: Logger,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  async lookup(token: string): Promise<Principal | undefined> {
    const hash = tokenHash(token);
    const age = Date.now() - this.loadedAt;
    if (age > RELOAD_MS || (!this.byHash.has(hash) && age > MISS_RELOAD_MS)) await this.reload();
    return this.byHash.get(hash);
  }

  private reload(): Promise<void> {
    this.loading ??= this.read().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async read(): Promise<void> {
    let data: Record<string, string> = {};
    try {
      const secret = await this.core.readNamespacedSecret({ name: this.name, namespace: this.namespace });
      data = secret.data ?? {};
    } catch (err) {
      // No Secret yet means no keys beyond the static ones; anything else keeps the last good set.
      if (!isNotFound(err)) {
        this.logger?.warn({ err: (err as Error).message, secret: `${this.namespace}/${this.name}` }, 'could not read API keys; keeping the last ones read');
        this.loadedAt = Date.now();
        return;
      }
    }
    const next = new Map<string, Principal>();
    for (const [name, encoded] of Object.entries(data)) {
      const record = parseRecord(Buffer.from(encoded, 'base64').toString('utf8'));
      if (!record) {
        this.logger?.warn({ key: name, secret: `${this.namespace}/${this.name}` }, 'API key entry is not a valid record; skipped');
        continue;
      }
      next.set(record.hash, { name, role: record.role, namespaces: record.namespaces });
    }
    this.byHash = next;
    this.loadedAt = Date.now();
  }
}

function parseRecord(text: string): ApiKeyRecord | undefined {
  try {
    const parsed = apiKeyRecord.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
