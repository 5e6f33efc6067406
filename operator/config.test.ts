import { describe, expect, it } from 'vitest';
import { loadOperatorConfig } from './config.js';

describe('loadOperatorConfig', () => {
  it('takes defaults, then environment, then flags', () => {
    const d = loadOperatorConfig({}, {});
    expect(d).toMatchObject({ runtime: 'kubernetes', redisUrl: 'redis://127.0.0.1:6379', workers: 4, leaderElection: { enabled: true, leaseDurationSeconds: 10 } });
    expect(d.namespace).toBeUndefined();
    const e = loadOperatorConfig({ runtime: 'process' }, { RPA_OPERATOR_RUNTIME: 'kubernetes', RPA_WATCH_NAMESPACE: 'rpa', REDIS_URL: 'redis://r:6379', RPA_OPERATOR_WORKERS: '8' });
    expect(e).toMatchObject({ runtime: 'process', namespace: 'rpa', redisUrl: 'redis://r:6379', workers: 8 });
  });

  it('names the flag and variable of a bad value', () => {
    expect(() => loadOperatorConfig({ runtime: 'vm' }, {})).toThrow(/--runtime \/ RPA_OPERATOR_RUNTIME/);
    expect(() => loadOperatorConfig({}, { RPA_OPERATOR_WORKERS: 'many' })).toThrow(/RPA_OPERATOR_WORKERS/);
    expect(() => loadOperatorConfig({}, { RPA_LEASE_DURATION_SECONDS: '5', RPA_RENEW_DEADLINE_SECONDS: '10' })).toThrow(/RPA_RENEW_DEADLINE_SECONDS: renew deadline must be shorter/);
    expect(() => loadOperatorConfig({ namespace: 'Bad_NS' }, {})).toThrow(/--namespace/);
  });
});
