import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { type DataPlaneSettings, dataPlaneSettings, queueName } from '../../core/queue.js';
import { type JobPayloadInput } from '../../core/job.js';
import type { WorkflowSpec } from '../../core/workflow.js';
import { JobClient } from '../../dataplane/jobs.js';
import { RobotAgent } from '../../robot/agent.js';
import { robotConfig, type RobotConfigInput } from '../../robot/config.js';

/** A key prefix of its own per test file, so files share one Redis without seeing each other. */
export function testDataPlane(overrides: Partial<DataPlaneSettings> = {}): DataPlaneSettings {
  return dataPlaneSettings.parse({ prefix: `t${randomBytes(4).toString('hex')}`, ...overrides });
}

export function redisUrl(): string {
  return inject('redisUrl');
}

export function newRedis(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null });
}

export function agentConfig(settings: DataPlaneSettings, overrides: Partial<RobotConfigInput> = {}) {
  return robotConfig.parse({
    name: 'bot',
    id: `bot-${randomBytes(3).toString('hex')}`,
    redisUrl: redisUrl(),
    dataPlane: settings,
    shutdownGraceMs: 2_000,
    ...overrides,
  });
}

export async function startAgent(settings: DataPlaneSettings, overrides: Partial<RobotConfigInput> = {}): Promise<RobotAgent> {
  process.env.LOG_LEVEL ??= 'silent';
  const agent = new RobotAgent(agentConfig(settings, overrides));
  await agent.start();
  return agent;
}

export function payload(spec: WorkflowSpec, extra: Partial<JobPayloadInput> = {}): Omit<JobPayloadInput, 'v' | 'submittedAt'> {
  return { workflow: { name: 'test', spec }, variables: {}, source: { kind: 'cli' }, ...extra };
}

export { chain } from './workflows.js';

export const botQueue = (name = 'bot') => queueName('default', name);

export { JobClient };

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
