import type { Job } from 'bullmq';
import type { JobProgress } from '../core/job.js';

/**
 * Writes a job's progress summary at most once per interval, trailing: a job that ends
 * before the first interval writes none, which keeps short jobs cheap.
 */
export class ProgressWriter {
  private latest?: JobProgress;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly job: Pick<Job, 'updateProgress'>,
    private readonly intervalMs: number,
  ) {}

  update(p: JobProgress): void {
    this.latest = p;
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.intervalMs);
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.latest;
    this.latest = undefined;
    if (p) await this.job.updateProgress(p).catch(() => undefined);
  }

  /** Drops anything pending; the final state is written by whoever ends the job. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.latest = undefined;
  }
}
