/** Why a whole run stopped early; never retried at node level. */
export type AbortKind = 'cancelled' | 'timed_out' | 'shutdown';

export class RunAborted extends Error {
  constructor(
    readonly kind: AbortKind,
    message: string,
  ) {
    super(message);
    this.name = 'RunAborted';
  }
}

/** A node gave up after its attempts; `nodeId` is qualified (`loop[1].fetch`). */
export class NodeFailed extends Error {
  constructor(
    readonly nodeId: string,
    message: string,
  ) {
    super(message);
    this.name = 'NodeFailed';
  }
}

export class NodeTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'NodeTimeout';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
