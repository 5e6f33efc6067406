import { z } from 'zod';
import { nodeRun } from './job.js';

/** Where a run continues: the next node at this level and, inside a forEach, where in the loop. */
export interface Cursor {
  node: string;
  loop?: { index: number; items: unknown[]; inner: Cursor | null; saved?: Record<string, unknown> };
}

export const cursor: z.ZodType<Cursor> = z.lazy(() =>
  z.object({
    node: z.string(),
    loop: z
      .object({
        index: z.number().int().min(0),
        items: z.array(z.unknown()),
        inner: cursor.nullable(),
        saved: z.record(z.string(), z.unknown()).optional(),
      })
      .optional(),
  }),
);

/** A run's state after its last finished node; enough to resume without re-running anything finished. */
export const checkpoint = z.object({
  v: z.literal(1),
  variables: z.record(z.string(), z.unknown()),
  /** Qualified ids of finished nodes, in order. */
  finished: z.array(z.string()),
  /** Null once the run reached its end. */
  cursor: cursor.nullable(),
  steps: z.number().int(),
  nodes: z.array(nodeRun),
});
export type Checkpoint = z.infer<typeof checkpoint>;
