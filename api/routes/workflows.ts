import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody, namespaceParams } from '../../core/api.js';
import { objectParams, workflowBody, type WorkflowBody, workflowList, type WorkflowResource, workflowResource, workflowValidation } from '../../core/api-resources.js';
import { formatProblem, validateWorkflow } from '../../core/validate.js';
import type { WorkflowSpec } from '../../core/workflow.js';
import type { ApiDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import { customResources, metadataOf, type StoredObject } from '../kube.js';

function workflowView(obj: StoredObject): WorkflowResource {
  return {
    metadata: metadataOf(obj),
    spec: obj.spec as WorkflowSpec,
    ...(obj.status ? { status: obj.status as NonNullable<WorkflowResource['status']> } : {}),
  };
}

const metadataExtra = (body: WorkflowBody) => ({
  ...(body.metadata?.labels ? { labels: body.metadata.labels } : {}),
  ...(body.metadata?.annotations ? { annotations: body.metadata.annotations } : {}),
});

/** Workflow custom resources: read by viewers, written by admins, checked before they are stored. */
export const workflowsRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  const workflows = customResources(deps, 'Workflow', 'workflows');
  const r = app.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 503: errorBody };
  const tags = ['workflows'];

  r.get(
    '/namespaces/:namespace/workflows',
    { config: { role: 'viewer' }, schema: { tags, summary: 'List Workflows', params: namespaceParams, response: { 200: workflowList, ...errors } } },
    async (req) => ({ items: (await workflows().list(req.params.namespace)).map(workflowView) }),
  );

  r.get(
    '/namespaces/:namespace/workflows/:name',
    { config: { role: 'viewer' }, schema: { tags, summary: 'One Workflow', params: objectParams, response: { 200: workflowResource, 404: errorBody, ...errors } } },
    async (req) => workflowView(await workflows().get(req.params.namespace, req.params.name)),
  );

  r.put(
    '/namespaces/:namespace/workflows/:name',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create or replace a Workflow',
        description: 'The spec is validated first (node types, params, templates, graph shape); 400 lists every problem by node id.',
        params: objectParams,
        body: workflowBody,
        response: { 200: workflowResource, 201: workflowResource, 409: errorBody, ...errors },
      },
    },
    async (req, reply) => {
      const { namespace, name } = req.params;
      const checked = validateWorkflow(req.body.spec);
      if (!checked.ok) {
        const [first] = checked.problems;
        throw badRequest(first ? formatProblem(first) : 'invalid workflow', { problems: checked.problems });
      }
      const client = workflows();
      const existing = await client.find(namespace, name);
      // The stored spec is the one the client sent, not zod's output: defaults are the CRD's to apply.
      if (!existing) return reply.code(201).send(workflowView(await client.create(namespace, name, req.body.spec, metadataExtra(req.body))));
      return workflowView(await client.replace(existing, req.body.spec, metadataExtra(req.body)));
    },
  );

  r.delete(
    '/namespaces/:namespace/workflows/:name',
    { config: { role: 'admin' }, schema: { tags, summary: 'Delete a Workflow', params: objectParams, response: { 204: z.null().describe('deleted'), 404: errorBody, ...errors } } },
    async (req, reply) => {
      await workflows().delete(req.params.namespace, req.params.name);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/namespaces/:namespace/workflows/validate',
    {
      config: { role: 'viewer' },
      schema: { tags, summary: 'Check a Workflow without saving it', params: namespaceParams, body: workflowBody, response: { 200: workflowValidation, ...errors } },
    },
    // Needs no cluster: the checks are the API's own.
    async (req) => {
      const checked = validateWorkflow(req.body.spec);
      return { valid: checked.ok, problems: checked.problems };
    },
  );
};
