import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { apiRole, errorBody } from '../../core/api.js';
import type { ApiDeps } from '../deps.js';

const whoami = z.object({ name: z.string(), role: apiRole, namespaces: z.array(z.string()) }).meta({ id: 'Principal' });

/** Which key this is: lets a script check its key and role before doing anything. */
export const whoamiRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app) => {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/whoami',
    { config: { role: 'viewer' }, schema: { tags: ['auth'], summary: 'The calling API key', response: { 200: whoami, 401: errorBody } } },
    async (req) => {
      const p = req.principal;
      if (!p) throw new Error('authenticated route without a principal');
      return { name: p.name, role: p.role, namespaces: [...p.namespaces] };
    },
  );
};
