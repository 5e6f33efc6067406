/**
 * The steps of running a job that a pod robot (processor.ts) and a remote machine
 * (remote/job-runner.ts) share around the engine: checking the payload before a run and naming
 * the end of an unsuccessful one. Pure; each caller reports the result its own way.
 */
import { InputError, resolveInputs } from '../core/inputs.js';
import type { z } from 'zod';
import { type JobError, jobPayloadEnvelope, type JobResult } from '../core/job.js';
import { formatProblem } from '../core/validate.js';
import type { ValidationCache } from '../core/validation-cache.js';
import type { WorkflowSpec } from '../core/workflow.js';
import type { RunOutcome } from './engine/runner.js';

type Refusal = { ok: false; error: JobError };
type Envelope = z.infer<typeof jobPayloadEnvelope>;

/** The payload with its workflow checked (validated once per distinct spec), or why the job cannot run. */
export function checkPayload(data: unknown, validations: ValidationCache): { ok: true; payload: Envelope; workflow: WorkflowSpec } | Refusal {
  const parsed = jobPayloadEnvelope.safeParse(data);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ');
    return { ok: false, error: { code: 'invalid_payload', message: `invalid job payload: ${msg}` } };
  }
  const payload = parsed.data;
  const check = validations.validate(payload.workflow.spec, payload.workflow.hash);
  if (!check.ok) {
    return { ok: false, error: { code: 'invalid_workflow', message: `workflow "${payload.workflow.name}" is invalid: ${check.problems.map(formatProblem).join('; ')}` } };
  }
  return { ok: true, payload, workflow: check.workflow };
}

/**
 * The variables a first run starts with, or why it may not start (deadline passed, inputs
 * invalid). A resumed run starts from its checkpoint's variables, so it gets none here.
 */
export function startingVariables(workflow: WorkflowSpec, payload: Pick<Envelope, 'deadline' | 'variables'>, resumed: boolean, startMs: number): { ok: true; variables: Record<string, unknown> } | Refusal {
  if (resumed) return { ok: true, variables: {} };
  if (payload.deadline && Date.parse(payload.deadline) < startMs) {
    return { ok: false, error: { code: 'deadline_exceeded', message: `deadline ${payload.deadline} passed before the job started` } };
  }
  try {
    return { ok: true, variables: resolveInputs(workflow.inputs, payload.variables) };
  } catch (err) {
    if (err instanceof InputError) return { ok: false, error: { code: 'invalid_input', message: err.message } };
    throw err;
  }
}

/** How a run that neither succeeded nor was shut down ended, as a job status and error. */
export function unsuccessfulEnd(outcome: RunOutcome): { status: Exclude<JobResult['status'], 'succeeded'>; error: JobError } {
  switch (outcome.status) {
    case 'cancelled':
      return { status: 'cancelled', error: { code: 'cancelled', message: outcome.error?.message ?? 'cancelled' } };
    case 'timed_out':
      return { status: 'timed_out', error: { code: 'timed_out', message: outcome.error?.message ?? 'timed out' } };
    default:
      return { status: 'failed', error: { code: 'node_failed', message: outcome.error?.message ?? 'failed', ...(outcome.error?.nodeId ? { nodeId: outcome.error.nodeId } : {}) } };
  }
}
