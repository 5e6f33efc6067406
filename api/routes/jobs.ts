import { createHash, randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Counter } from 'prom-client';
import { errorBody, namespaceParams } from '../../core/api.js';
import {
  cancelAnswer,
  idempotencyHeaders,
  type JobDetail,
  jobDetail,
  jobIdParams,
  jobList,
  jobLogs,
  type JobSummary,
  listJobsQuery,
  type SubmitJobBody,
  submitJobBody,
} from '../../core/api-jobs.js';
import { contentHash } from '../../core/hash.js';
import type { JobView } from '../../core/job.js';
import { perRegistry } from '../../core/per-registry.js';
import { namespaceOfQueue, queueName } from '../../core/queue.js';
import { formatProblem, validateWorkflow } from '../../core/validate.js';
import { ValidationCache } from '../../core/validation-cache.js';
import type { WorkflowSpec } from '../../core/workflow.js';
import type { IndexCursor } from '../../dataplane/job-index.js';
import { pickRobot, robotCandidate } from '../../operator/routing/pick-robot.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { customResources } from '../kube.js';

const submitted = perRegistry((registers) => new Counter({ name: 'rpa_api_jobs_submitted_total', help: 'Jobs submitted through the API', labelNames: ['namespace'], registers }));

/** A listing reads at most this many index entries per page, so sparse filters cannot make one request scan everything. */
const SCAN_FACTOR = 10;

const unprocessable = (code: string, message: string, details?: unknown) => new ApiError(422, code, message, details);
const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 429: errorBody };

function summarize(v: JobView): JobSummary {
  const { progress: _p, result: _r, ...rest } = v;
  return { ...rest, namespace: namespaceOfQueue(v.queue), robot: v.queue.slice(namespaceOfQueue(v.queue).length + 1) };
}

function detail(v: JobView): JobDetail {
  const timeline: JobDetail['timeline'] = (v.result?.nodes ?? []).map((n) => ({
    nodeId: n.id,
    type: n.type,
    status: n.status,
    startedAt: n.startedAt,
    ...finishedAt(n.startedAt, n.durationMs),
    durationMs: n.durationMs,
    attempts: n.attempts,
    ...(n.error ? { error: n.error } : {}),
  }));
  if (!v.result && v.progress?.currentNode && v.state === 'running') timeline.push({ nodeId: v.progress.currentNode, status: 'running' });
  return {
    ...summarize(v),
    ...(v.progress ? { progress: { ...(v.progress.currentNode ? { currentNode: v.progress.currentNode } : {}), finishedNodes: v.progress.finishedNodes, totalNodes: v.progress.totalNodes } } : {}),
    ...(v.result ? { result: v.result } : {}),
    timeline,
  };
}

/** Robots record a node's start and duration; readers want to place its end on a time line too. */
function finishedAt(startedAt: string, durationMs: number): { finishedAt?: string } {
  const start = Date.parse(startedAt);
  return Number.isFinite(start) ? { finishedAt: new Date(start + durationMs).toISOString() } : {};
}

const encodeCursor = (c: IndexCursor) => Buffer.from(JSON.stringify([c.score, c.id])).toString('base64url');
function decodeCursor(raw: string): IndexCursor {
  try {
    const [score, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof score === 'number' && typeof id === 'string') return { score, id };
  } catch {
    // fall through to the error below
  }
  throw badRequest('querystring.cursor: not a cursor this API gave out', { issues: [{ path: 'querystring.cursor', message: 'invalid cursor' }] });
}

/**
 * Jobs live in Redis only: submitted here (by workflow name or inline graph, to a Robot by name or
 * capabilities), listed across a namespace's queues, read with their node timeline, cancelled and
 * retried. An Idempotency-Key makes a retried POST return the first job instead of running twice.
 */
export const jobsRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (plain, { deps }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  const workflows = customResources(deps, 'Workflow', 'workflows');
  const robots = customResources(deps, 'Robot', 'robots');
  const counter = submitted(deps.registry);
  // Clients submit the same few graphs over and over: validate and hash each distinct one once.
  const validations = new ValidationCache();
  const hashes = new WeakMap<WorkflowSpec, string>();
  const hashOf = (spec: WorkflowSpec) => {
    let h = hashes.get(spec);
    if (!h) hashes.set(spec, (h = contentHash(spec)));
    return h;
  };
  const tags = ['jobs'];

  async function resolveWorkflow(namespace: string, body: SubmitJobBody): Promise<{ name: string; spec: WorkflowSpec }> {
    if (body.workflow !== undefined) {
      const stored = await workflows().find(namespace, body.workflow);
      if (!stored) throw unprocessable('workflow_not_found', `Workflow "${body.workflow}" not found in ${namespace}`);
      const check = validateWorkflow(stored.spec);
      if (!check.ok) throw unprocessable('workflow_invalid', `Workflow "${body.workflow}" is invalid: ${check.problems.slice(0, 3).map(formatProblem).join('; ')}`, { problems: check.problems.map(formatProblem) });
      return { name: body.workflow, spec: check.workflow };
    }
    const check = validations.validate(body.workflowSpec);
    if (!check.ok) {
      const problems = check.problems.map(formatProblem);
      throw badRequest(`body.workflowSpec: ${problems[0] ?? 'invalid workflow'}`, { problems });
    }
    return { name: 'inline', spec: check.workflow };
  }

  async function route(namespace: string, selector: SubmitJobBody['robot']): Promise<string> {
    const byNameOnly = selector.name !== undefined && (selector.capabilities?.length ?? 0) === 0;
    // Without a cluster a named Robot is taken on trust: its queue is its name.
    if (byNameOnly && !deps.kc && selector.name) return selector.name;
    const list = await robots().list(namespace);
    const candidates = await Promise.all(
      list.map(async (r) => {
        const name = r.metadata?.name ?? '';
        return robotCandidate(name, r.spec, await deps.jobs.counts(queueName(namespace, name)));
      }),
    );
    const pick = pickRobot(selector, candidates);
    if (!pick.ok) throw unprocessable(pick.error.code === 'UnknownRobot' ? 'robot_not_found' : 'no_capable_robot', pick.error.message);
    return pick.robot;
  }

  function jobIdFor(req: FastifyRequest, namespace: string, key: string | undefined): string {
    if (!key) return randomUUID();
    // Scoped to the caller and namespace, so two keys' retries never meet.
    return `idem-${createHash('sha256').update(`${req.principal?.name ?? ''}\n${namespace}\n${key}`).digest('hex').slice(0, 32)}`;
  }

  async function viewIn(namespace: string, id: string): Promise<JobView> {
    const v = await deps.jobs.get(id);
    if (!v || namespaceOfQueue(v.queue) !== namespace) throw notFound(`Job "${id}" in ${namespace}`);
    return v;
  }

  app.post(
    '/namespaces/:namespace/jobs',
    {
      config: { role: 'operator' },
      schema: {
        tags,
        summary: 'Submit a job',
        params: namespaceParams,
        headers: idempotencyHeaders,
        body: submitJobBody,
        response: { 200: jobDetail, 201: jobDetail, ...errors, 409: errorBody, 413: errorBody, 422: errorBody, 503: errorBody },
      },
    },
    async (req, reply) => {
      const { namespace } = req.params;
      const body = req.body;
      const id = jobIdFor(req, namespace, req.headers['idempotency-key']);
      const existing = req.headers['idempotency-key'] ? await deps.jobs.get(id) : undefined;
      if (existing) return reply.code(200).send(detail(existing));
      const workflow = await resolveWorkflow(namespace, body);
      const robot = await route(namespace, body.robot);
      const queue = queueName(namespace, robot);
      const submittedAt = new Date().toISOString();
      const result = await deps.jobs.submit({
        queue,
        jobId: id,
        priority: body.priority,
        retries: body.retries,
        payload: {
          workflow: { ...workflow, hash: hashOf(workflow.spec) },
          variables: body.variables,
          ...(body.timeoutSeconds ? { timeoutSeconds: body.timeoutSeconds } : {}),
          ...(body.deadline ? { deadline: body.deadline } : {}),
          source: { kind: 'api', namespace, ...(req.principal ? { name: req.principal.name } : {}) },
          submittedAt,
        },
      });
      if (!result.created) {
        // Another request with this key won the race, or the key's job ran long ago: its reference
        // outlives the job record (kept for failedRetention), so a finished job may be unreadable.
        const view = await deps.jobs.get(result.id);
        if (!view) throw new ApiError(409, 'idempotency_key_used', `Idempotency-Key "${req.headers['idempotency-key'] ?? ''}" belongs to job ${result.id}, which has finished and is no longer kept`);
        return reply.code(200).send(detail(view));
      }
      counter.inc({ namespace });
      // What was just written, without reading it back: a robot may already be running it, which
      // GET shows; the answer to a POST is the job as submitted.
      return reply.code(201).send({
        id: result.id,
        namespace,
        robot,
        queue,
        workflow: workflow.name,
        state: 'queued',
        priority: body.priority,
        attemptsMade: 0,
        attemptsAllowed: body.retries + 1,
        createdAt: submittedAt,
        timeline: [],
      });
    },
  );

  app.get(
    '/namespaces/:namespace/jobs',
    { config: { role: 'viewer' }, schema: { tags, summary: 'List jobs, newest first', params: namespaceParams, querystring: listJobsQuery, response: { 200: jobList, ...errors } } },
    async (req) => {
      const { namespace } = req.params;
      const { limit, state, workflow, robot } = req.query;
      let cursor = req.query.cursor ? decodeCursor(req.query.cursor) : undefined;
      const items: JobSummary[] = [];
      let scanned = 0;
      let more = true;
      while (items.length < limit && scanned < limit * SCAN_FACTOR) {
        const page = await deps.jobs.index.page(namespace, Math.min(limit * 2, 500), cursor);
        if (page.length === 0) {
          more = false;
          break;
        }
        const views = await Promise.all(page.map((e) => deps.jobs.get(e.id)));
        const gone: string[] = [];
        for (const [i, e] of page.entries()) {
          scanned++;
          cursor = { score: e.score, id: e.id };
          const v = views[i];
          if (!v) {
            gone.push(e.id);
            continue;
          }
          const s = summarize(v);
          if ((state && s.state !== state) || (workflow && s.workflow !== workflow) || (robot && s.robot !== robot)) continue;
          items.push(s);
          if (items.length === limit) break;
        }
        await deps.jobs.index.remove(namespace, gone);
      }
      return { items, ...(more && cursor ? { nextCursor: encodeCursor(cursor) } : {}) };
    },
  );

  app.get(
    '/namespaces/:namespace/jobs/:id',
    { config: { role: 'viewer' }, schema: { tags, summary: 'A job with its node timeline', params: jobIdParams, response: { 200: jobDetail, ...errors } } },
    async (req) => detail(await viewIn(req.params.namespace, req.params.id)),
  );

  app.get(
    '/namespaces/:namespace/jobs/:id/logs',
    { config: { role: 'viewer' }, schema: { tags, summary: "A job's log lines", params: jobIdParams, response: { 200: jobLogs, ...errors } } },
    async (req) => {
      await viewIn(req.params.namespace, req.params.id);
      return { lines: (await deps.jobs.logs(req.params.id)) ?? [] };
    },
  );

  app.post(
    '/namespaces/:namespace/jobs/:id/cancel',
    { config: { role: 'operator' }, schema: { tags, summary: 'Cancel a job, queued or running', params: jobIdParams, response: { 200: cancelAnswer, ...errors } } },
    async (req) => {
      await viewIn(req.params.namespace, req.params.id);
      const outcome = await deps.jobs.cancel(req.params.id, `cancelled through the API by ${req.principal?.name ?? 'unknown'}`);
      if (outcome === 'not_found') throw notFound(`Job "${req.params.id}" in ${req.params.namespace}`);
      return { outcome };
    },
  );

  app.post(
    '/namespaces/:namespace/jobs/:id/retry',
    { config: { role: 'operator' }, schema: { tags, summary: 'Retry a failed job from its checkpoint', params: jobIdParams, response: { 200: jobDetail, ...errors, 409: errorBody } } },
    async (req) => {
      const before = await viewIn(req.params.namespace, req.params.id);
      if (!(await deps.jobs.retry(req.params.id))) throw new ApiError(409, 'conflict', `Job "${req.params.id}" is ${before.state}; only failed jobs can be retried`);
      return detail(await viewIn(req.params.namespace, req.params.id));
    },
  );
};
