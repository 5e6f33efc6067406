import { describe, expect, it } from 'vitest';
import { loadApiConfig } from './config.js';

describe('loadApiConfig', () => {
  it('takes flags over environment over defaults', () => {
    const c = loadApiConfig({ port: '9000' }, { RPA_API_PORT: '7000', REDIS_URL: 'redis://127.0.0.1:6390', POD_NAMESPACE: 'rpa-system' });
    expect(c).toMatchObject({ port: 9000, host: '0.0.0.0', redisUrl: 'redis://127.0.0.1:6390', namespace: 'rpa-system', keysSecret: 'rpa-api-keys' });
    expect(c.adminToken).toBeUndefined();
  });

  it('names the flag and variable of a bad value', () => {
    expect(() => loadApiConfig({ port: 'http' }, {})).toThrow(/--port \/ RPA_API_PORT/);
    expect(() => loadApiConfig({}, { RPA_ADMIN_TOKEN: 'short' })).toThrow(/RPA_ADMIN_TOKEN: must be at least 16 characters/);
  });
});
