import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorBody, namespaceParams } from '../../core/api.js';
import { objectParams, robotList, type RobotLive, type RobotResource, robotResource, tokenRotation } from '../../core/api-resources.js';
import type { RobotPresence } from '../../core/presence.js';
import type { RobotSpec } from '../../core/robot.js';
import { PresenceStore } from '../../dataplane/presence.js';
import { tokenSecretName } from '../../core/tokens.js';
import { ROTATE_TOKEN_ANNOTATION } from '../../operator/controllers/robot-objects.js';
import type { ApiDeps } from '../deps.js';
import { conflict } from '../errors.js';
import { customResources, metadataOf, type StoredObject } from '../kube.js';

/** What the data plane knows about a Robot's live processes right now. */
export function liveOf(instances: readonly RobotPresence[]): RobotLive {
  const newest = instances.reduce<string | undefined>((a, p) => (a === undefined || Date.parse(p.lastHeartbeat) > Date.parse(a) ? p.lastHeartbeat : a), undefined);
  return {
    connected: instances.length,
    slots: instances.reduce((n, p) => n + p.concurrency, 0),
    busySlots: instances.reduce((n, p) => n + Math.min(p.runningJobs.length, p.concurrency), 0),
    ...(newest ? { lastHeartbeat: newest } : {}),
    instances: instances.map((p) => ({
      id: p.id,
      mode: p.mode,
      host: p.host,
      version: p.version,
      capabilities: p.capabilities,
      concurrency: p.concurrency,
      runningJobs: p.runningJobs,
      draining: p.draining,
      cpu: p.cpu,
      memory: p.memory,
      startedAt: p.startedAt,
      lastHeartbeat: p.lastHeartbeat,
    })),
  };
}

function robotView(obj: StoredObject, instances: readonly RobotPresence[]): RobotResource {
  return {
    metadata: metadataOf(obj),
    spec: obj.spec as RobotSpec,
    ...(obj.status ? { status: obj.status as NonNullable<RobotResource['status']> } : {}),
    live: liveOf(instances),
  };
}

/** Robot custom resources with their live instances joined from Redis presence, and token rotation. */
export const robotsRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  const robots = customResources(deps, 'Robot', 'robots');
  const presence = new PresenceStore(deps.redis, deps.settings);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 503: errorBody };
  const tags = ['robots'];

  r.get(
    '/namespaces/:namespace/robots',
    { config: { role: 'viewer' }, schema: { tags, summary: 'List Robots with their live instances', params: namespaceParams, response: { 200: robotList, ...errors } } },
    async (req) => {
      const { namespace } = req.params;
      const [objects, live] = await Promise.all([robots().list(namespace), presence.list({ namespace })]);
      const byRobot = new Map<string, RobotPresence[]>();
      for (const p of live) byRobot.set(p.robot, [...(byRobot.get(p.robot) ?? []), p]);
      return { items: objects.map((o) => robotView(o, byRobot.get(o.metadata?.name ?? '') ?? [])) };
    },
  );

  r.get(
    '/namespaces/:namespace/robots/:name',
    { config: { role: 'viewer' }, schema: { tags, summary: 'One Robot with its live instances', params: objectParams, response: { 200: robotResource, 404: errorBody, ...errors } } },
    async (req) => {
      const { namespace, name } = req.params;
      const [obj, live] = await Promise.all([robots().get(namespace, name), presence.list({ namespace, robot: name })]);
      return robotView(obj, live);
    },
  );

  r.post(
    '/namespaces/:namespace/robots/:name/rotate-token',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: "Rotate a remote Robot's join token",
        description: 'The operator writes a new token to the Secret; machines using the old one must rejoin with the new one.',
        params: objectParams,
        response: { 202: tokenRotation, 404: errorBody, 409: errorBody, ...errors },
      },
    },
    async (req, reply) => {
      const { namespace, name } = req.params;
      const client = robots();
      const obj = await client.get(namespace, name);
      const mode = (obj.spec as Partial<RobotSpec> | undefined)?.mode ?? 'pods';
      if (mode !== 'remote') throw conflict(`Robot "${namespace}/${name}" runs in ${mode} mode; only remote Robots have a join token`);
      // Any new value triggers the operator; a timestamp also says when rotation was asked for.
      let rotation = new Date().toISOString();
      if (obj.metadata?.annotations?.[ROTATE_TOKEN_ANNOTATION] === rotation) rotation = new Date(Date.now() + 1).toISOString();
      await client.patch(namespace, name, { metadata: { resourceVersion: obj.metadata?.resourceVersion, annotations: { [ROTATE_TOKEN_ANNOTATION]: rotation } } });
      return reply.code(202).send({ name, namespace, rotation, secret: tokenSecretName(name) });
    },
  );
};
