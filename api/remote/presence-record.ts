import type { RobotPresence } from '../../core/presence.js';
import type { HeartbeatMessage, HelloMessage } from '../../core/protocol.js';

/** The presence record of a connected machine, in the shape pod robots write, so Robot status counts both alike. */
export function remotePresence(hello: HelloMessage, heartbeat: HeartbeatMessage | undefined, s: { running: string[]; draining: boolean; startedAt: string }): RobotPresence {
  return {
    id: hello.machine.id,
    robot: hello.robot.name,
    namespace: hello.robot.namespace,
    mode: 'remote',
    host: hello.machine.hostname,
    pid: hello.machine.pid,
    version: hello.version,
    capabilities: hello.capabilities,
    concurrency: hello.concurrency,
    runningJobs: s.running,
    draining: s.draining,
    cpu: heartbeat?.cpu ?? { percent: 0, cores: 1 },
    memory: heartbeat?.memory ?? { rssBytes: 0, heapUsedBytes: 0, totalBytes: 0, freeBytes: 0 },
    startedAt: s.startedAt,
    lastHeartbeat: new Date().toISOString(),
  };
}
