import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type * as k8s from '@kubernetes/client-node';
import type { Principal } from '../../core/api.js';
import type { DataPlaneSettings } from '../../core/queue.js';
import { type ApiOptions, buildApi } from '../../api/app.js';
import { StaticKeyStore } from '../../api/auth/keys.js';
import type { ApiDeps } from '../../api/deps.js';
import { JobClient, newRedis } from './dataplane.js';

/** One key per role, all namespaces, plus one scoped to `team-a`. Tokens are fixed: tests only. */
export const TEST_KEYS = {
  admin: { token: 'rpak_test_admin', name: 'admin', role: 'admin', namespaces: ['*'] },
  operator: { token: 'rpak_test_operator', name: 'ops', role: 'operator', namespaces: ['*'] },
  viewer: { token: 'rpak_test_viewer', name: 'watcher', role: 'viewer', namespaces: ['*'] },
  teamA: { token: 'rpak_test_team_a', name: 'team-a-ops', role: 'operator', namespaces: ['team-a'] },
} as const satisfies Record<string, Principal & { token: string }>;

export const auth = (key: keyof typeof TEST_KEYS) => ({ authorization: `Bearer ${TEST_KEYS[key].token}` });

/** The API on a real Redis (the test's prefix) and, when given, a real kube-apiserver. */
export async function testApi(settings: DataPlaneSettings, opts: { kc?: k8s.KubeConfig; options?: ApiOptions } = {}): Promise<{ app: FastifyInstance; deps: ApiDeps; close: () => Promise<void> }> {
  const redis = newRedis();
  const deps: ApiDeps = {
    redis,
    settings,
    jobs: new JobClient(redis, settings),
    keys: new StaticKeyStore(Object.values(TEST_KEYS)),
    registry: new Registry(),
    ...(opts.kc ? { kc: opts.kc } : {}),
  };
  const app = await buildApi(deps, opts.options);
  await app.ready();
  return {
    app,
    deps,
    close: async () => {
      await app.close();
      await deps.jobs.close();
      redis.disconnect();
    },
  };
}
