/** How long a cancellation is remembered for a job this robot has not (yet) started. */
const REMEMBER_MS = 60_000;
const MAX_ENTRIES = 10_000;

/**
 * Cancellations heard on the pub/sub channel, kept for a minute: a job cancelled just as
 * this robot took it is caught at its start without a Redis read per job.
 */
export class RecentCancels {
  private readonly entries = new Map<string, { reason: string; until: number }>();

  add(jobId: string, reason: string, now = Date.now()): void {
    this.entries.delete(jobId);
    this.entries.set(jobId, { reason, until: now + REMEMBER_MS });
    for (const [id, e] of this.entries) {
      if (e.until > now && this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(id);
    }
  }

  get(jobId: string, now = Date.now()): string | undefined {
    const e = this.entries.get(jobId);
    return e && e.until > now ? e.reason : undefined;
  }
}
