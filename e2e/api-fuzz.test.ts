/**
 * Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis, installed
 * by scripts/setup.sh): no request, valid or not, gets a 5xx, and every documented response
 * matches its schema. Bounded in examples and time so CI stays quick.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_VERSION } from '../core/meta.js';
import { startClusterWithCrds, type TestCluster } from '../test/helpers/cluster.js';
import { auth, testApi } from '../test/helpers/api.js';
import { eventually, testDataPlane } from '../test/helpers/dataplane.js';

const ST = join(import.meta.dirname, '..', '.cache', 'venv', 'bin', 'st');
let tc: TestCluster;
let api: Awaited<ReturnType<typeof testApi>>;
let base = '';

beforeAll(async () => {
  tc = await startClusterWithCrds();
  // A fresh API server answers 429 until each custom resource's storage is up; the API rightly
  // passes that on as 503, which is not what this test is about.
  const custom = tc.kc.makeApiClient(k8s.CustomObjectsApi);
  for (const plural of ['workflows', 'robots', 'jobs', 'schedules']) {
    await eventually(() => custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural }).then(() => true, () => undefined), 30_000, `${plural} storage ready`);
  }
  api = await testApi(testDataPlane(), { kc: tc.kc, options: { rateLimitPerMinute: 1_000_000 } });
  base = await api.app.listen({ host: '127.0.0.1', port: 0 });
}, 900_000);

afterAll(async () => {
  await api?.close();
  await tc?.stop();
});

describe('API fuzzing (schemathesis)', () => {
  it('never answers 5xx and every response matches its documented schema', { timeout: 300_000 }, async () => {
    expect(existsSync(ST), `${ST} missing: run scripts/setup.sh`).toBe(true);
    const args = [
      'run',
      `${base}/openapi.json`,
      '--checks',
      'not_a_server_error,response_schema_conformance',
      '--max-examples',
      '15',
      '--max-time',
      '45',
      '--seed',
      '1',
      // One worker: hypothesis' lambda descriptions (ast.parse) are not thread-safe on CPython
      // 3.11 and fail with "AST constructor recursion depth mismatch" under several.
      '--workers',
      '1',
      '--request-timeout',
      '10',
      '--suppress-health-check',
      'all',
      '--header',
      `Authorization: ${auth('admin').authorization}`,
    ];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      // Its cache (.schemathesis/) goes to a scratch directory, not the checkout.
      const child = spawn(ST, args, { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', (c) => resolve({ code: c, output: out }));
    });
    const summary = output.split('\n').filter((l) => /passed|failed|error|operations|Test cases/i.test(l)).slice(-8).join('\n');
    process.stderr.write(`[api-fuzz]\n${summary}\n`);
    expect(code, output.slice(-6000)).toBe(0);
  });
});
