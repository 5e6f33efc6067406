import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { remoteRobotsRoutes } from '../remote/routes.js';
import { eventsRoutes } from './events.js';
import { fleetRoutes } from './fleet.js';
import { jobsRoutes } from './jobs.js';
import { robotsRoutes } from './robots.js';
import { schedulesRoutes } from './schedules.js';
import { whoamiRoutes } from './whoami.js';
import { workflowsRoutes } from './workflows.js';

/**
 * Route plugins mounted under /api/v1, one per resource. Each gets the shared dependencies and
 * declares its own schemas (from core/) and roles.
 */
export const apiRoutes: FastifyPluginAsync<{ deps: ApiDeps }>[] = [whoamiRoutes, jobsRoutes, workflowsRoutes, robotsRoutes, schedulesRoutes, remoteRobotsRoutes, eventsRoutes, fleetRoutes];
