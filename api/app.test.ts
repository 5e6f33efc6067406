import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, testApi } from '../test/helpers/api.js';
import { testDataPlane } from '../test/helpers/dataplane.js';

let api: Awaited<ReturnType<typeof testApi>>;

beforeAll(async () => {
  api = await testApi(testDataPlane(), { options: { rateLimitPerMinute: 5 } });
});
afterAll(async () => api?.close());

describe('API basics (real Redis, no cluster)', () => {
  it('answers 401 with a Bearer challenge without a key or with an unknown one, in the shared error shape', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'Basic abc' }]) {
      const r = await api.app.inject({ method: 'GET', url: '/api/v1/whoami', headers });
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="rpa"');
      expect(r.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('Bearer') } });
    }
  });

  it('tells a key who it is', async () => {
    const r = await api.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: auth('teamA') });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ name: 'team-a-ops', role: 'operator', namespaces: ['team-a'] });
  });

  it('answers unknown routes 404 in the same shape', async () => {
    const r = await api.app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1', headers: auth('admin') });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /api/v1/nothing-here' } });
  });

  it('serves probes, metrics and the OpenAPI document without a key', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { redis: 'ok', kubernetes: 'not configured' } });
    const doc = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/api/v1/whoami');
    expect((await api.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
    const metrics = await api.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/whoami",status_code="200"\}/);
  });

  it('limits requests per key and says so with 429', async () => {
    let last = await api.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: auth('viewer') });
    for (let i = 0; i < 7; i++) last = await api.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: auth('viewer') });
    expect(last.statusCode).toBe(429);
    expect(last.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('Rate limit') } });
    // Another key has its own budget.
    expect((await api.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: auth('operator') })).statusCode).toBe(200);
  });
});
