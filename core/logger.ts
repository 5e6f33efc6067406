import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs with the fields the docs promise (`job`, `robot`, `resource`).
 * LOG_LEVEL picks the level; `silent` is what tests and `--json` output use.
 */
export function createLogger(name: string, fields: Record<string, unknown> = {}, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { component: name, ...fields } }, pino.destination({ fd: 2, sync: false }));
}
