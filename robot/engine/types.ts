import type { Page } from 'playwright-core';
import type { Checkpoint } from '../../core/checkpoint.js';
import type { NodeSpec } from '../../core/workflow.js';

export type { Checkpoint, Cursor } from '../../core/checkpoint.js';

export type Variables = Record<string, unknown>;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  at: string;
  level: LogLevel;
  nodeId?: string;
  message: string;
}

/** What a node handler may use; every capability with side effects comes through here. */
export interface NodeContext<P> {
  node: NodeSpec;
  /** Qualified id, unique across forEach iterations. */
  qualifiedId: string;
  params: P;
  variables: Readonly<Variables>;
  /** Aborts on cancellation, job timeout and this node's own timeout. */
  signal: AbortSignal;
  /** Milliseconds this attempt may take, for APIs that take a timeout of their own. */
  timeoutMs: number;
  jobId: string;
  log(level: LogLevel, message: string): void;
  page(): Promise<Page>;
  closeBrowser(): Promise<void>;
  artifactPath(name: string): Promise<string>;
}

export interface NodeOutcome {
  /** Variables to set after the node succeeds. */
  set?: Variables;
  /** For `if`: which out-edge to follow. */
  branch?: 'true' | 'false';
}

export interface NodeHandler<P = unknown> {
  type: string;
  /** `none`: the handler renders its own params (it needs the raw templates). */
  render: 'all' | 'none';
  run(ctx: NodeContext<P>): Promise<NodeOutcome | void>;
}

export interface NodeEvent {
  id: string;
  type: string;
  attempt: number;
}

export interface RunHooks {
  nodeStarted?(e: NodeEvent): void;
  nodeFinished?(e: NodeEvent & { durationMs: number }): void;
  nodeFailed?(e: NodeEvent & { durationMs: number; error: string; willRetry: boolean }): void;
  /** Called after every finished node; the run waits for it, so a crash never loses a finished node. */
  checkpoint?(cp: Checkpoint): Promise<void>;
  log?(entry: LogEntry): void;
}
