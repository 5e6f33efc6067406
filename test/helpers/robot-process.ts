import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { DataPlaneSettings } from '../../core/queue.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const RPA_BIN = join(ROOT, 'bin', 'rpa.js');

export interface RobotProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Env that points a child `rpa` process at the test's Redis and key prefix. */
export function childEnv(settings: DataPlaneSettings, redisUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, REDIS_URL: redisUrl, RPA_QUEUE_PREFIX: settings.prefix, LOG_LEVEL: 'warn', ...extra };
}

/** Starts `rpa robot` as a real process and waits for its ready line. */
export async function spawnRobot(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RobotProcess> {
  const child = spawn(process.execPath, [RPA_BIN, 'robot', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`robot did not get ready:\n${out}`)), timeoutMs);
    const onData = () => {
      if (/ready on queue/.test(out)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`robot exited with ${code} before it was ready:\n${out}`));
    });
  });
  return { child, output: () => out, exited };
}

export async function stopRobot(r: RobotProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill(signal);
  return r.exited;
}
