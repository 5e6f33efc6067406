import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { loadWorkflow, ManifestError } from '../core/manifest.js';
import type { NodeRun } from '../core/job.js';
import type { WorkflowManifest } from '../core/workflow.js';

/** A failure the user caused: printed as a message, no stack, with this exit code. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export async function readWorkflowFile(file: string): Promise<WorkflowManifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return loadWorkflow(text, file, basename(file, extname(file)).toLowerCase().replace(/[^a-z0-9-]/g, '-'));
  } catch (err) {
    if (err instanceof ManifestError) throw new UsageError(err.message);
    throw err;
  }
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function ms(n: number): string {
  return n < 1000 ? `${n.toFixed(1)} ms` : `${(n / 1000).toFixed(2)} s`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** The per-node timings table `rpa run` and `rpa job get` print. */
export function nodeTable(nodes: readonly NodeRun[]): string {
  return table([['NODE', 'TYPE', 'STATUS', 'ATTEMPTS', 'DURATION'], ...nodes.map((n) => [n.id, n.type, n.status, String(n.attempts), ms(n.durationMs)])]);
}

export function printVariables(variables: Record<string, unknown>): void {
  process.stdout.write('\nvariables:\n');
  for (const [k, v] of Object.entries(variables)) process.stdout.write(`  ${k} = ${JSON.stringify(v)}\n`);
}
