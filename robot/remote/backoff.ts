/**
 * Delay before reconnect attempt `attempt` (0 for the first): exponential with jitter (within the upper half of each step), so a
 * fleet cut off at once does not come back at once. `random` is in [0, 1).
 */
export function reconnectDelay(attempt: number, initialMs: number, maxMs: number, random: number = Math.random()): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (random * cap) / 2);
}
