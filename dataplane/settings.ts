import { type DataPlaneSettings, dataPlaneSettings } from '../core/queue.js';

const ENV: Record<string, keyof DataPlaneSettings> = {
  RPA_QUEUE_PREFIX: 'prefix',
  RPA_LOCK_DURATION_MS: 'lockDurationMs',
  RPA_STALLED_INTERVAL_MS: 'stalledIntervalMs',
  RPA_MAX_STALLED_COUNT: 'maxStalledCount',
  RPA_HEARTBEAT_INTERVAL_MS: 'heartbeatIntervalMs',
  RPA_PRESENCE_TTL_SECONDS: 'presenceTtlSeconds',
};

/** Data-plane settings from RPA_* variables over the defaults; a bad value names its variable. */
export function dataPlaneFromEnv(env: NodeJS.ProcessEnv = process.env): DataPlaneSettings {
  const raw: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    raw[key] = key === 'prefix' ? v : Number(v);
  }
  const parsed = dataPlaneSettings.safeParse(raw);
  if (!parsed.success) {
    const byKey = Object.fromEntries(Object.entries(ENV).map(([n, k]) => [k, n]));
    throw new Error(parsed.error.issues.map((i) => `${byKey[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

/** The inverse of dataPlaneFromEnv: what a robot process needs to share the operator's data plane. */
export function dataPlaneToEnv(settings: DataPlaneSettings): Record<string, string> {
  return Object.fromEntries(Object.entries(ENV).map(([name, key]) => [name, String(settings[key])]));
}
