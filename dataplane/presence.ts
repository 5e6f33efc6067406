import type { Redis } from 'ioredis';
import { type RobotPresence, robotPresence } from '../core/presence.js';
import { type DataPlaneSettings, keys } from '../core/queue.js';

/** Presence keys expire on their own; the index only lists candidates and is pruned on read. */
export class PresenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly settings: DataPlaneSettings,
  ) {}

  async beat(p: RobotPresence): Promise<void> {
    await this.redis
      .multi()
      .set(keys.presence(this.settings, p.id), JSON.stringify(p), 'EX', this.settings.presenceTtlSeconds)
      .zadd(keys.presenceIndex(this.settings), Date.now(), p.id)
      .exec();
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().del(keys.presence(this.settings, id)).zrem(keys.presenceIndex(this.settings), id).exec();
  }

  async list(filter: { namespace?: string; robot?: string } = {}): Promise<RobotPresence[]> {
    const index = keys.presenceIndex(this.settings);
    await this.redis.zremrangebyscore(index, '-inf', String(Date.now() - this.settings.presenceTtlSeconds * 2_000));
    const ids = await this.redis.zrange(index, '0', '-1');
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => keys.presence(this.settings, id)));
    const out: RobotPresence[] = [];
    for (const raw of raws) {
      if (!raw) continue;
      const parsed = robotPresence.safeParse(JSON.parse(raw));
      if (!parsed.success) continue;
      const p = parsed.data;
      if (filter.namespace && p.namespace !== filter.namespace) continue;
      if (filter.robot && p.robot !== filter.robot) continue;
      out.push(p);
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }
}
