import { describe, expect, it } from 'vitest';
import type { JobView } from '../../core/job.js';
import { jobSpec } from '../../core/job.js';
import { decideJob, JOB_FINALIZER, type JobFacts, PROGRESS_WRITE_INTERVAL_MS } from './job-decide.js';

const now = Date.parse('2026-11-23T10:00:00Z');
const spec = jobSpec.parse({ workflowRef: { name: 'hello' }, robotSelector: { name: 'bot' } });
const base: JobFacts = { uid: 'u1', generation: 1, spec, status: undefined, finalizers: [JOB_FINALIZER], target: { robot: 'bot', queue: 'default.bot' } };

const view = (over: Partial<JobView>): JobView => ({
  id: 'u1',
  queue: 'default.bot',
  workflow: 'hello',
  state: 'queued',
  priority: 50,
  attemptsMade: 0,
  attemptsAllowed: 1,
  createdAt: '2026-11-23T09:59:00.000Z',
  ...over,
});

describe('decideJob', () => {
  it('adds its finalizer first, then enqueues on the chosen robot', () => {
    expect(decideJob({ ...base, finalizers: [] }, now)).toEqual({ kind: 'add-finalizer' });
    expect(decideJob(base, now)).toEqual({ kind: 'enqueue', robot: 'bot', queue: 'default.bot' });
  });

  it('never enqueues again once the job exists in the queue: it mirrors status instead', () => {
    const a = decideJob({ ...base, queued: view({ state: 'running', startedAt: '2026-11-23T09:59:30.000Z' }) }, now);
    expect(a.kind).toBe('write-status');
    if (a.kind !== 'write-status') return;
    expect(a.status).toMatchObject({ phase: 'running', robot: 'bot', queue: 'default.bot', duration: '30s' });
    expect(a.status.conditions?.find((c) => c.type === 'Reconciling')?.status).toBe('True');
  });

  it('writes progress alone at most every few seconds, phase changes at once', () => {
    const running = view({ state: 'running', startedAt: '2026-11-23T09:59:30.000Z', progress: { state: 'running', finishedNodes: 1, totalNodes: 5 } });
    const first = decideJob({ ...base, queued: running }, now);
    if (first.kind !== 'write-status') throw new Error(first.kind);
    const moved = view({ ...running, progress: { state: 'running', finishedNodes: 2, totalNodes: 5 } });
    expect(decideJob({ ...base, status: first.status, queued: moved, lastStatusWriteAt: now - 1000 }, now)).toEqual({
      kind: 'requeue',
      afterMs: PROGRESS_WRITE_INTERVAL_MS - 1000,
    });
    const done = view({
      state: 'succeeded',
      startedAt: '2026-11-23T09:59:30.000Z',
      finishedAt: '2026-11-23T09:59:58.000Z',
      result: { status: 'succeeded', variables: { secret: 'x' }, nodes: [], startedAt: '', finishedAt: '', durationMs: 28_000 },
    });
    const a = decideJob({ ...base, status: first.status, queued: done, lastStatusWriteAt: now - 1000 }, now);
    expect(a.kind).toBe('write-status');
    if (a.kind !== 'write-status') return;
    expect(a.status).toMatchObject({ phase: 'succeeded', completionTime: '2026-11-23T09:59:58.000Z', duration: '28s', result: { status: 'succeeded', nodesRun: 0 } });
    expect(JSON.stringify(a.status)).not.toContain('secret');
    expect(a.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('cancels on spec.cancel and on deletion, then releases the finalizer', () => {
    const running = view({ state: 'running' });
    expect(decideJob({ ...base, spec: { ...spec, cancel: true }, queued: running }, now)).toMatchObject({ kind: 'cancel' });
    expect(decideJob({ ...base, deletionTimestamp: '2026-11-23T10:00:00Z', queued: running }, now)).toMatchObject({ kind: 'cancel' });
    expect(decideJob({ ...base, deletionTimestamp: '2026-11-23T10:00:00Z', queued: view({ state: 'cancelled' }) }, now)).toEqual({ kind: 'remove-finalizer' });
    expect(decideJob({ ...base, spec: { ...spec, cancel: true } }, now)).toEqual({ kind: 'none' });
  });

  it('reports why a job cannot be enqueued as a Stalled condition', () => {
    const a = decideJob({ ...base, target: undefined, blocked: { reason: 'WorkflowNotFound', message: 'workflow "hello" not found' } }, now);
    if (a.kind !== 'write-status') throw new Error(a.kind);
    expect(a.status.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'WorkflowNotFound' });
  });

  it('deletes a finished job after ttlSecondsAfterFinished', () => {
    const status = { phase: 'succeeded' as const, completionTime: '2026-11-23T09:59:00.000Z' };
    expect(decideJob({ ...base, spec: { ...spec, ttlSecondsAfterFinished: 30 }, status }, now)).toMatchObject({ kind: 'delete' });
    expect(decideJob({ ...base, spec: { ...spec, ttlSecondsAfterFinished: 120 }, status }, now)).toEqual({ kind: 'requeue', afterMs: 60_000 });
    expect(decideJob({ ...base, status }, now)).toEqual({ kind: 'none' });
  });
});
