import type { Redis } from 'ioredis';
import { type DataPlaneSettings, keys } from '../core/queue.js';
import { type Checkpoint, checkpoint } from '../core/checkpoint.js';

/** Per-job run state, written after every node so a job taken again resumes where it stopped. */
export class CheckpointStore {
  constructor(
    private readonly redis: Redis,
    private readonly settings: DataPlaneSettings,
  ) {}

  async save(queue: string, jobId: string, cp: Checkpoint): Promise<void> {
    await this.redis.set(keys.checkpoint(this.settings, queue, jobId), JSON.stringify(cp), 'EX', this.settings.checkpointTtlSeconds);
  }

  async load(queue: string, jobId: string): Promise<Checkpoint | undefined> {
    const raw = await this.redis.get(keys.checkpoint(this.settings, queue, jobId));
    if (!raw) return undefined;
    const parsed = checkpoint.safeParse(JSON.parse(raw));
    // A checkpoint from an incompatible version is dropped: the job starts over rather than fails.
    return parsed.success ? parsed.data : undefined;
  }

  async clear(queue: string, jobId: string): Promise<void> {
    await this.redis.del(keys.checkpoint(this.settings, queue, jobId));
  }
}
