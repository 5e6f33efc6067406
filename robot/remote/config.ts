import { hostname } from 'node:os';
import { z } from 'zod';
import { namespaceName, resourceName } from '../../core/meta.js';
import { machineId } from '../../core/protocol.js';
import { configError } from '../../core/config-error.js';

const csv = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

/** A machine that joins a remote Robot over the API's WebSocket; it needs no Redis and no Kubernetes access. */
export const remoteRobotConfig = z.object({
  name: resourceName,
  namespace: namespaceName.default('default'),
  id: machineId,
  /** The API's base URL (http or https); the WebSocket is at <api>/api/v1/robots/connect. */
  apiUrl: z.string().url().refine((u) => /^(https?|wss?):\/\//.test(u), { message: 'must be an http(s) or ws(s) URL' }),
  token: z.string().min(1),
  concurrency: z.coerce.number().int().min(1).max(64).default(1),
  capabilities: z.union([z.array(z.string()), csv]).default([]),
  shutdownGraceMs: z.coerce.number().int().min(0).default(30_000),
  defaultJobTimeoutSeconds: z.coerce.number().int().min(1).default(3_600),
  chromiumPath: z.string().optional(),
  artifactsDir: z.string().optional(),
  /** First reconnect delay; it doubles per failed attempt up to reconnectMaxMs, with full jitter. */
  reconnectInitialMs: z.coerce.number().int().min(10).default(500),
  reconnectMaxMs: z.coerce.number().int().min(100).default(30_000),
  /** Messages kept while disconnected (results, checkpoints, logs); the oldest logs go first. */
  outboxLimit: z.coerce.number().int().min(10).default(10_000),
});
export type RemoteRobotConfig = z.infer<typeof remoteRobotConfig>;
export type RemoteRobotConfigInput = z.input<typeof remoteRobotConfig>;

/** A machine id from the host name: what presence and job results show when --id is not given. */
export function defaultMachineId(name: string, host = hostname(), pid = process.pid): string {
  const clean = `${name}-${host}-${pid}`.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return clean.slice(0, 128) || `robot-${pid}`;
}

/** Flags win over environment variables; a bad value stops start-up with the flag and variable named. */
export function loadRemoteRobotConfig(flags: Partial<Record<string, unknown>>, env: NodeJS.ProcessEnv = process.env): RemoteRobotConfig {
  const pick = (flag: string, envName: string) => flags[flag] ?? env[envName];
  const name = pick('name', 'RPA_ROBOT_NAME');
  const raw = {
    name,
    namespace: pick('namespace', 'RPA_NAMESPACE'),
    id: pick('id', 'RPA_ROBOT_ID') ?? defaultMachineId(String(name ?? 'robot')),
    apiUrl: pick('api', 'RPA_API_URL'),
    token: pick('token', 'RPA_ROBOT_TOKEN'),
    concurrency: pick('concurrency', 'RPA_CONCURRENCY'),
    capabilities: pick('capabilities', 'RPA_CAPABILITIES'),
    shutdownGraceMs: pick('shutdownGraceMs', 'RPA_SHUTDOWN_GRACE_MS'),
    defaultJobTimeoutSeconds: env.RPA_JOB_TIMEOUT_SECONDS,
    chromiumPath: env.CHROMIUM_PATH,
    artifactsDir: env.RPA_ARTIFACTS_DIR,
    reconnectInitialMs: env.RPA_RECONNECT_INITIAL_MS,
    reconnectMaxMs: env.RPA_RECONNECT_MAX_MS,
  };
  const parsed = remoteRobotConfig.safeParse(raw);
  if (!parsed.success) {
    const names: Record<string, string> = {
      name: '--name / RPA_ROBOT_NAME',
      namespace: '--namespace / RPA_NAMESPACE',
      id: '--id / RPA_ROBOT_ID',
      apiUrl: '--api / RPA_API_URL',
      token: '--token / RPA_ROBOT_TOKEN',
      concurrency: '--concurrency / RPA_CONCURRENCY',
      reconnectInitialMs: 'RPA_RECONNECT_INITIAL_MS',
      reconnectMaxMs: 'RPA_RECONNECT_MAX_MS',
    };
    throw configError('remote robot configuration', parsed.error.issues, names);
  }
  return parsed.data;
}
