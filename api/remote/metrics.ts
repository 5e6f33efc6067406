import { Counter, Gauge } from 'prom-client';
import { perRegistry } from '../../core/per-registry.js';

/** The remote robot endpoint's metrics, one set per registry. */
export const remoteMetrics = perRegistry((registers) => ({
  connected: new Gauge({
    name: 'rpa_api_remote_robots_connected',
    help: 'Remote robot machines connected to this API replica and past hello, by Robot.',
    labelNames: ['namespace', 'robot'] as const,
    registers,
  }),
  messages: new Counter({
    name: 'rpa_api_websocket_messages_total',
    help: 'WebSocket messages on the remote robot endpoint, by direction (in, out) and type ("invalid" for frames that failed the schema).',
    labelNames: ['direction', 'type'] as const,
    registers,
  }),
}));
export type RemoteMetrics = ReturnType<typeof remoteMetrics>;
