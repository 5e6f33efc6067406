import type { NodeRun } from '../../core/job.js';
import { nodeParamSchemas, isNodeType } from '../../core/node-types.js';
import { renderValue } from '../../core/expr/index.js';
import type { GraphSpec, NodeSpec, WorkflowSpec } from '../../core/workflow.js';
import { handlers } from '../nodes/index.js';
import { abortReason, raceAbort, sleep } from './abort.js';
import { errorMessage, NodeFailed, NodeTimeout, RunAborted } from './errors.js';
import { compileGraph, type CompiledGraph, successor } from './graph.js';
import { type RunSignal, signalOf } from './lazy-abort.js';
import { isoNow } from '../iso-now.js';
import type { Checkpoint, Cursor, NodeContext, NodeOutcome, RunHooks, Variables } from './types.js';

/** Side-effecting services a run needs; the robot and `rpa run` provide them. */
export interface RunServices {
  page(jobId: string): Promise<import('playwright-core').Page>;
  closeBrowser(jobId: string): Promise<void>;
  artifactPath(jobId: string, name: string): Promise<string>;
}

export interface RunOptions {
  jobId: string;
  variables: Variables;
  /** Aborts the run: cancellation, job timeout or shutdown, with a RunAborted reason. */
  signal: RunSignal;
  services: RunServices;
  hooks?: RunHooks;
  /** Resume point from an earlier, interrupted run of the same job. */
  checkpoint?: Checkpoint;
  /** Guard against onError jumps that loop for ever. */
  maxSteps?: number;
  /** Node timeout when a node sets none: a browser wait must not hang a robot for ever. */
  defaultNodeTimeoutMs?: number;
}

export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out' | 'shutdown';
  variables: Variables;
  nodes: NodeRun[];
  error?: { message: string; nodeId?: string };
  resumedAfter?: string;
  checkpoint: Checkpoint;
}

const DEFAULT_MAX_STEPS = 100_000;
const STRUCTURAL = new Set(['start', 'end']);
const DEFAULT_NODE_TIMEOUT_MS = 5 * 60_000;

/** Runs a validated workflow from its start, or from a checkpoint, to an outcome; never throws for run failures. */
export async function runWorkflow(spec: WorkflowSpec, opts: RunOptions): Promise<RunOutcome> {
  const run = new Run(spec, opts);
  return run.execute();
}

class Run {
  private readonly cp: Checkpoint;
  private readonly maxSteps: number;

  constructor(
    private readonly spec: WorkflowSpec,
    private readonly opts: RunOptions,
  ) {
    this.maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
    this.cp = opts.checkpoint
      ? structuredClone(opts.checkpoint)
      : { v: 1, variables: { ...opts.variables }, finished: [], cursor: { node: compileGraph(spec, true).entry }, steps: 0, nodes: [] };
  }

  async execute(): Promise<RunOutcome> {
    const resumedAfter = this.opts.checkpoint ? this.cp.finished.at(-1) : undefined;
    try {
      if (this.cp.cursor) {
        await this.walk(compileGraph(this.spec, true), this.cp.cursor, '', async (c) => {
          this.cp.cursor = c;
          await this.save();
        });
      }
      return this.outcome('succeeded', undefined, resumedAfter);
    } catch (err) {
      if (err instanceof RunAborted) return this.outcome(err.kind, { message: err.message }, resumedAfter);
      if (err instanceof NodeFailed) return this.outcome('failed', { message: err.message, nodeId: err.nodeId }, resumedAfter);
      return this.outcome('failed', { message: errorMessage(err) }, resumedAfter);
    } finally {
      await this.opts.services.closeBrowser(this.opts.jobId).catch(() => undefined);
    }
  }

  private outcome(status: RunOutcome['status'], error: RunOutcome['error'], resumedAfter: string | undefined): RunOutcome {
    return {
      status,
      variables: this.cp.variables,
      nodes: this.cp.nodes,
      ...(error ? { error } : {}),
      ...(resumedAfter ? { resumedAfter } : {}),
      checkpoint: this.cp,
    };
  }

  private async save(): Promise<void> {
    await this.opts.hooks?.checkpoint?.(this.cp);
  }

  /**
   * Walks one graph level from `start`. `save(cursor)` records where to continue after each
   * finished node; `save(null)` means this level is done.
   */
  private async walk(g: CompiledGraph, start: Cursor, prefix: string, save: (c: Cursor | null) => Promise<void>): Promise<void> {
    let cur: Cursor | null = start;
    while (cur) {
      if (this.opts.signal.aborted) throw abortReason(this.opts.signal);
      if (++this.cp.steps > this.maxSteps) throw new Error(`stopped after ${this.maxSteps} steps: an onError jump probably loops`);
      const node = g.nodes.get(cur.node);
      if (!node) throw new Error(`checkpoint names unknown node "${cur.node}"`);
      const qid = `${prefix}${node.id}`;

      if (node.type === 'forEach') {
        await this.loop(node, cur, qid, async (inner) => save(inner));
        this.cp.finished.push(qid);
        cur = nextCursor(g, node.id);
        await save(cur);
        continue;
      }

      if (STRUCTURAL.has(node.type)) {
        // start and end do nothing: no timers, events or checkpoint; a crash re-runs them for free.
        this.cp.nodes.push({ id: qid, type: node.type, status: 'succeeded', attempts: 1, startedAt: isoNow(), durationMs: 0 });
        this.cp.finished.push(qid);
        cur = nextCursor(g, node.id);
        continue;
      }

      const result = await this.runNode(node, qid);
      this.cp.finished.push(qid);
      if (result.ok) {
        Object.assign(this.cp.variables, result.outcome.set);
        cur = nextCursor(g, node.id, result.outcome.branch);
      } else if (node.onError === 'continue') {
        cur = nextCursor(g, node.id);
      } else if (node.onError === 'fail') {
        throw new NodeFailed(qid, `node "${qid}" failed: ${result.error}`);
      } else {
        this.cp.variables.error = { node: qid, message: result.error };
        cur = { node: node.onError };
      }
      await save(cur);
    }
  }

  private async loop(node: NodeSpec, cur: Cursor, qid: string, save: (c: Cursor | null) => Promise<void>): Promise<void> {
    const vars = this.cp.variables;
    let state = cur.loop;
    if (!state) {
      const rendered = renderValue(node.params.items, vars);
      if (!Array.isArray(rendered)) throw new NodeFailed(qid, `node "${qid}" failed: params.items must be a list, got ${typeName(rendered)}`);
      const p = nodeParamSchemas.forEach.parse(node.params);
      state = { index: 0, items: rendered, inner: null, saved: { [p.as]: vars[p.as], [p.indexAs]: vars[p.indexAs] } };
    }
    const p = nodeParamSchemas.forEach.parse(node.params);
    const body = compileGraph(p.body as GraphSpec, false);
    this.opts.hooks?.nodeStarted?.({ id: qid, type: 'forEach', attempt: 1 });
    const started = Date.now();
    const loopState = state;
    while (loopState.index < loopState.items.length) {
      const i = loopState.index;
      vars[p.as] = loopState.items[i];
      vars[p.indexAs] = i;
      const innerStart = loopState.inner ?? { node: body.entry };
      await this.walk(body, innerStart, `${qid}[${i}].`, async (inner) => {
        if (inner) await save({ node: node.id, loop: { ...loopState, index: i, inner } });
      });
      loopState.index = i + 1;
      loopState.inner = null;
      await save({ node: node.id, loop: { ...loopState } });
    }
    for (const [k, v] of Object.entries(loopState.saved ?? {})) {
      if (v === undefined) delete vars[k];
      else vars[k] = v;
    }
    const durationMs = Date.now() - started;
    this.opts.hooks?.nodeFinished?.({ id: qid, type: 'forEach', attempt: 1, durationMs });
    this.cp.nodes.push({ id: qid, type: 'forEach', status: 'succeeded', attempts: 1, startedAt: new Date(started).toISOString(), durationMs });
  }

  private async runNode(node: NodeSpec, qid: string): Promise<{ ok: true; outcome: NodeOutcome } | { ok: false; error: string }> {
    const handler = handlers.get(node.type);
    const attempts = node.retry?.attempts ?? 1;
    const backoffMs = node.retry?.backoffMs ?? 0;
    const timeoutMs = node.timeoutMs ?? this.opts.defaultNodeTimeoutMs ?? DEFAULT_NODE_TIMEOUT_MS;
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const event = { id: qid, type: node.type, attempt };
      this.opts.hooks?.nodeStarted?.(event);
      const a0 = performance.now();
      try {
        if (!handler || !isNodeType(node.type)) throw new Error(`unknown node type "${node.type}"`);
        const outcome = (await this.attempt(handler, node, qid, timeoutMs)) ?? {};
        const durationMs = performance.now() - a0;
        this.opts.hooks?.nodeFinished?.({ ...event, durationMs });
        this.cp.nodes.push({ id: qid, type: node.type, status: 'succeeded', attempts: attempt, startedAt, durationMs: performance.now() - t0 });
        return { ok: true, outcome };
      } catch (err) {
        if (err instanceof RunAborted) {
          this.opts.hooks?.nodeFailed?.({ ...event, durationMs: performance.now() - a0, error: err.message, willRetry: false });
          throw err;
        }
        lastError = errorMessage(err);
        const willRetry = attempt < attempts;
        this.opts.hooks?.nodeFailed?.({ ...event, durationMs: performance.now() - a0, error: lastError, willRetry });
        this.log('warn', `attempt ${attempt}/${attempts} failed: ${lastError}`, qid);
        if (willRetry && backoffMs > 0) await sleep(backoffMs * 2 ** (attempt - 1), signalOf(this.opts.signal));
      }
    }
    this.cp.nodes.push({ id: qid, type: node.type, status: 'failed', attempts, startedAt, durationMs: performance.now() - t0, error: lastError });
    return { ok: false, error: lastError };
  }

  private async attempt(handler: NonNullable<ReturnType<typeof handlers.get>>, node: NodeSpec, qid: string, timeoutMs: number) {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new NodeTimeout(timeoutMs)), timeoutMs);
    const signal = AbortSignal.any([signalOf(this.opts.signal), timeout.signal]);
    try {
      const vars = this.cp.variables;
      const raw = handler.render === 'all' ? renderValue(node.params, vars) : node.params;
      const schema = nodeParamSchemas[node.type as keyof typeof nodeParamSchemas];
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        throw new Error(parsed.error.issues.map((i) => `params.${i.path.join('.')}: ${i.message}`).join('; '));
      }
      const { services, jobId } = this.opts;
      const ctx: NodeContext<unknown> = {
        node,
        qualifiedId: qid,
        params: parsed.data,
        variables: vars,
        signal,
        timeoutMs,
        jobId,
        log: (level, message) => this.log(level, message, qid),
        page: () => services.page(jobId),
        closeBrowser: () => services.closeBrowser(jobId),
        artifactPath: (name) => services.artifactPath(jobId, name),
      };
      return await raceAbort(handler.run(ctx), signal);
    } finally {
      clearTimeout(timer);
    }
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string, nodeId?: string): void {
    this.opts.hooks?.log?.({ at: new Date().toISOString(), level, message, ...(nodeId ? { nodeId } : {}) });
  }
}

function nextCursor(g: CompiledGraph, id: string, branch?: 'true' | 'false'): Cursor | null {
  const to = successor(g, id, branch);
  return to === undefined ? null : { node: to };
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v;
}
