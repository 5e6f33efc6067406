import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody, namespaceParams } from '../../core/api.js';
import { objectParams, RESOURCE_DEFAULTS, scheduleCreateBody, scheduleList, scheduleQuery, type ScheduleResource, scheduleResource } from '../../core/api-resources.js';
import { scheduleProblems } from '../../operator/controllers/schedule-decide.js';
import { nextFireTimes } from '../../operator/schedules/cron.js';
import type { ApiDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import { customResources, metadataOf, type StoredObject } from '../kube.js';

/**
 * A Schedule with its upcoming fire times, computed the way the controller computes them. A
 * suspended Schedule fires never, and a stored spec the controller would refuse gets its problems
 * instead (kubectl can write a cron the CRD's regex lets through).
 */
export function scheduleView(obj: StoredObject, count: number, after: Date): ScheduleResource {
  const { spec, problems } = scheduleProblems(obj.spec);
  const fires = spec && !spec.suspend ? nextFireTimes(spec.cron, spec.timeZone, after, count, spec.dstPolicy) : [];
  return {
    metadata: metadataOf(obj),
    spec: (spec ?? obj.spec) as ScheduleResource['spec'],
    ...(obj.status ? { status: obj.status as NonNullable<ScheduleResource['status']> } : {}),
    nextFireTimes: fires.map((d) => d.toISOString()),
    ...(problems.length > 0 ? { problems } : {}),
  };
}

/** Schedule custom resources: listed with their next fire times, created by admins, paused by operators. */
export const schedulesRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  const schedules = customResources(deps, 'Schedule', 'schedules');
  const r = app.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 503: errorBody };
  const tags = ['schedules'];
  const afterOf = (q: { after?: string | undefined }) => (q.after ? new Date(q.after) : new Date());

  r.get(
    '/namespaces/:namespace/schedules',
    {
      config: { role: 'viewer' },
      schema: { tags, summary: 'List Schedules with their next fire times', params: namespaceParams, querystring: scheduleQuery, response: { 200: scheduleList, ...errors } },
    },
    async (req) => {
      const after = afterOf(req.query);
      return { items: (await schedules().list(req.params.namespace)).map((o) => scheduleView(o, req.query.next, after)) };
    },
  );

  r.get(
    '/namespaces/:namespace/schedules/:name',
    {
      config: { role: 'viewer' },
      schema: { tags, summary: 'One Schedule with its next fire times', params: objectParams, querystring: scheduleQuery, response: { 200: scheduleResource, 404: errorBody, ...errors } },
    },
    async (req) => scheduleView(await schedules().get(req.params.namespace, req.params.name), req.query.next, afterOf(req.query)),
  );

  r.post(
    '/namespaces/:namespace/schedules',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create a Schedule',
        description: 'The cron expression and time zone are checked first; 400 names spec.cron or spec.timeZone.',
        params: namespaceParams,
        body: scheduleCreateBody,
        response: { 201: scheduleResource, 409: errorBody, ...errors },
      },
    },
    async (req, reply) => {
      const { namespace } = req.params;
      const { problems } = scheduleProblems(req.body.spec);
      if (problems.length > 0) throw badRequest(problems[0] ?? 'invalid schedule', { problems });
      const { labels, annotations } = req.body.metadata ?? {};
      const created = await schedules().create(namespace, req.body.name, req.body.spec, { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) });
      return reply.code(201).send(scheduleView(created, RESOURCE_DEFAULTS.nextFireTimes, new Date()));
    },
  );

  for (const [action, suspend] of [['pause', true], ['resume', false]] as const) {
    r.post(
      `/namespaces/:namespace/schedules/:name/${action}`,
      {
        config: { role: 'operator' },
        schema: {
          tags,
          summary: suspend ? 'Pause a Schedule (spec.suspend: true)' : 'Resume a Schedule (spec.suspend: false)',
          params: objectParams,
          response: { 200: scheduleResource, 404: errorBody, ...errors },
        },
      },
      async (req) => {
        const { namespace, name } = req.params;
        return scheduleView(await schedules().patch(namespace, name, { spec: { suspend } }), RESOURCE_DEFAULTS.nextFireTimes, new Date());
      },
    );
  }

  r.delete(
    '/namespaces/:namespace/schedules/:name',
    { config: { role: 'admin' }, schema: { tags, summary: 'Delete a Schedule', params: objectParams, response: { 204: z.null().describe('deleted'), 404: errorBody, ...errors } } },
    async (req, reply) => {
      await schedules().delete(req.params.namespace, req.params.name);
      return reply.code(204).send(null);
    },
  );
};
