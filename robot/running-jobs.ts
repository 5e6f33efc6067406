import { RunAborted } from './engine/errors.js';
import type { LazyAbortController } from './engine/lazy-abort.js';

interface Entry {
  controller: LazyAbortController;
  deadline: number;
  timeoutSeconds: number;
}

/** How often job timeouts are checked: one timer for all jobs instead of one per job. */
export const TIMEOUT_SWEEP_MS = 100;

/** The jobs running on this robot, with their abort controllers and deadlines. */
export class RunningJobs {
  private readonly entries = new Map<string, Entry>();
  private sweeper?: NodeJS.Timeout;

  add(jobId: string, controller: LazyAbortController, timeoutSeconds: number): void {
    this.entries.set(jobId, { controller, deadline: Date.now() + timeoutSeconds * 1000, timeoutSeconds });
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), TIMEOUT_SWEEP_MS);
      this.sweeper.unref();
    }
  }

  delete(jobId: string): void {
    this.entries.delete(jobId);
    if (this.entries.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  controller(jobId: string): LazyAbortController | undefined {
    return this.entries.get(jobId)?.controller;
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }

  abortAll(reason: (jobId: string) => RunAborted): void {
    for (const [id, e] of this.entries) e.controller.abort(reason(id));
  }

  private sweep(now = Date.now()): void {
    for (const e of this.entries.values()) {
      if (now >= e.deadline) e.controller.abort(new RunAborted('timed_out', `job timed out after ${e.timeoutSeconds} s`));
    }
  }
}
