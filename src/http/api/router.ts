/**
 * The versioned HTTP API (`/api/v1`): bearer-token authentication, scope checks, zod-validated
 * requests, JSON errors, idempotent create calls. Every change goes through the application
 * services, so it emits the same trigger events and audit rows as the chat commands.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { z } from 'zod';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../engine/ports.js';
import { PrismaDirectoryAdmin, type DirectoryAdminService } from '../../app/PrismaDirectoryAdmin.js';
import { AppError, type Actor, type AppServices } from '../../app/services.js';
import { apiErrorHandler, ApiError, validationError } from './errors.js';
import { idempotency } from './idempotency.js';
import { buildOpenApiDocument } from './openapi.js';
import * as S from './schemas.js';
import { authenticateApiToken, type ApiPrincipal, type ApiScope } from './tokens.js';

export interface ApiRouterDeps {
  services: AppServices;
  prisma: PrismaClient;
  logger: Logger;
  /** Teams, members and roles (default: `PrismaDirectoryAdmin` over `prisma`). */
  directory?: DirectoryAdminService;
  /** Largest accepted request body (default 1 MiB). */
  bodyLimitBytes?: number;
}

/** The principal's actor: API tokens act as SYSTEM; their scopes are checked here. */
function actorOf(res: Response): Actor {
  const p = res.locals.principal as ApiPrincipal;
  return { userId: null, name: p.name, role: 'SYSTEM', platform: 'api', teamIds: [] };
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query'): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

function param(req: Request, name: string): string {
  const value = req.params[name];
  return typeof value === 'string' ? value : '';
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function createApiRouter(deps: ApiRouterDeps): Router {
  const { services, prisma, logger } = deps;
  const directory = deps.directory ?? new PrismaDirectoryAdmin(prisma);
  const router = express.Router();
  const openapi = buildOpenApiDocument();

  router.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  const authenticate: RequestHandler = async (req, res, next) => {
    const header = req.get('authorization');
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      res.set('WWW-Authenticate', 'Bearer');
      throw new ApiError(401, 'unauthorized', 'Send an API token: Authorization: Bearer <token>.');
    }
    const principal = await authenticateApiToken(prisma, match[1]);
    if (!principal) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new ApiError(401, 'unauthorized', 'The API token is unknown or revoked.');
    }
    res.locals.principal = principal;
    next();
  };
  router.use(authenticate);

  router.use((req: Request, _res: Response, next: NextFunction) => {
    if ((req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT') && hasBody(req) && !req.is(['application/json', 'application/*+json'])) {
      throw new ApiError(415, 'unsupported_media_type', 'Send the request body as application/json.');
    }
    next();
  });
  router.use(express.json({ limit: deps.bodyLimitBytes ?? 1024 * 1024, strict: true, type: ['application/json', 'application/*+json'] }));

  const scope =
    (needed: ApiScope): RequestHandler =>
    (_req, res, next) => {
      const p = res.locals.principal as ApiPrincipal;
      if (!p.scopes.includes(needed)) throw new ApiError(403, 'forbidden', `This token lacks the "${needed}" scope.`);
      next();
    };
  const once = idempotency(prisma, logger);

  // --- incidents ---------------------------------------------------------------------------

  router.get('/incidents', scope('incidents:read'), async (req, res) => {
    const q = parse(S.ListIncidentsQuery, req.query, 'query');
    const incidents = await services.incidents.list(actorOf(res), {
      ...(q.status ? { status: q.status } : {}),
      ...(q.teamId ? { teamId: q.teamId } : {}),
      ...(q.limit ? { limit: q.limit } : {}),
    });
    res.json({ incidents });
  });

  router.post('/incidents', scope('incidents:write'), once, async (req, res) => {
    const body = parse(S.CreateIncidentBody, req.body ?? {}, 'body');
    const incident = await services.incidents
      .declare(actorOf(res), {
        title: body.title,
        teamId: body.team,
        ...(body.priority ? { priority: body.priority } : {}),
        ...(body.metadata ? { metadata: body.metadata } : {}),
      })
      .catch((error: unknown) => {
        // The service names its input `teamId`; the request body calls it `team`.
        if (error instanceof AppError && error.field === 'teamId') throw new AppError(error.code, error.message, 'team');
        throw error;
      });
    res.status(201).location(`${req.baseUrl}/incidents/${incident.id}`).json(incident);
  });

  router.get('/incidents/:id', scope('incidents:read'), async (req, res) => {
    res.json(await services.incidents.get(actorOf(res), param(req, 'id')));
  });

  router.patch('/incidents/:id', scope('incidents:write'), async (req, res) => {
    const body = parse(S.UpdateIncidentBody, req.body ?? {}, 'body');
    res.json(
      await services.incidents.update(actorOf(res), param(req, 'id'), {
        ...(body.status !== undefined ? { status: body.status } : {}),
        ...(body.priority !== undefined ? { priority: body.priority } : {}),
        ...(body.assigneeId !== undefined ? { assigneeId: body.assigneeId } : {}),
      }),
    );
  });

  router.post('/incidents/:id/escalate', scope('incidents:write'), once, async (req, res) => {
    res.json(await services.incidents.escalate(actorOf(res), param(req, 'id')));
  });

  // --- workflows ---------------------------------------------------------------------------

  router.get('/workflows', scope('workflows:read'), async (_req, res) => {
    res.json({ workflows: await services.workflows.list(actorOf(res)) });
  });

  router.get('/workflows/:name', scope('workflows:read'), async (req, res) => {
    res.json(await services.workflows.show(actorOf(res), param(req, 'name')));
  });

  router.post('/workflows', scope('workflows:write'), once, async (req, res) => {
    const body = parse(S.ApplyWorkflowBody, req.body ?? {}, 'body');
    const text = typeof body.document === 'string' ? body.document : JSON.stringify(body.document, null, 2);
    const actor = actorOf(res);
    let result;
    try {
      result = await services.workflows.apply(actor, [{ file: 'document', text }]);
    } catch (error) {
      // Point the offending field at the request body's `document`.
      if (error instanceof AppError && error.code === 'invalid') {
        throw new ApiError(422, 'validation_failed', error.message, error.field ? `document.${error.field}` : 'document', error.details);
      }
      throw error;
    }
    const [change] = result.changes;
    const workflow = change ? await services.workflows.show(actor, change.name) : undefined;
    const { definition: _definition, ...summary } = workflow ?? { definition: undefined };
    res.status(change?.action === 'create' ? 201 : 200).json({ ...result, ...(workflow ? { workflow: summary } : {}) });
  });

  for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
    router.post(`/workflows/:name/${verb}`, scope('workflows:write'), async (req, res) => {
      res.json(await services.workflows.setEnabled(actorOf(res), param(req, 'name'), enabled));
    });
  }

  // --- executions --------------------------------------------------------------------------

  router.get('/executions', scope('executions:read'), async (req, res) => {
    const q = parse(S.ListExecutionsQuery, req.query, 'query');
    const executions = await services.runs.listExecutions(actorOf(res), {
      ...(q.incidentId ? { incidentId: q.incidentId } : {}),
      ...(q.workflowId ? { workflowId: q.workflowId } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.limit ? { limit: q.limit } : {}),
    });
    res.json({ executions });
  });

  router.get('/executions/:id', scope('executions:read'), async (req, res) => {
    const execution = await services.runs.getExecution(actorOf(res), param(req, 'id'));
    const view = await services.runs.view(execution.id);
    res.json({ ...execution, steps: view?.steps ?? [] });
  });

  router.post('/executions/:id/cancel', scope('executions:write'), async (req, res) => {
    const result = await services.runs.cancel(actorOf(res), param(req, 'id'));
    if (result.outcome === 'already_finished') {
      throw new ApiError(409, 'conflict', `The run already finished (${result.status}).`, undefined, result);
    }
    res.status(result.outcome === 'cancelled' ? 200 : 202).json(result);
  });

  router.post('/executions/:id/retry', scope('executions:write'), once, async (req, res) => {
    const result = await services.runs.retry(actorOf(res), param(req, 'id'));
    if (result.outcome !== 'retrying') throw new ApiError(409, 'conflict', result.message, undefined, result);
    res.status(202).json(result);
  });

  // --- directory ---------------------------------------------------------------------------

  router.get('/teams', scope('directory:read'), async (_req, res) => {
    res.json({ teams: await directory.listTeams(actorOf(res)) });
  });

  router.post('/teams', scope('directory:write'), once, async (req, res) => {
    const body = parse(S.CreateTeamBody, req.body ?? {}, 'body');
    const team = await directory.createTeam(actorOf(res), body.name, {
      ...(body.slackChannelId !== undefined ? { slackChannelId: body.slackChannelId } : {}),
      ...(body.teamsConversationId !== undefined ? { teamsConversationId: body.teamsConversationId } : {}),
    });
    res.status(201).location(`${req.baseUrl}/teams/${encodeURIComponent(team.name)}`).json(team);
  });

  router.patch('/teams/:name', scope('directory:write'), async (req, res) => {
    const body = parse(S.UpdateTeamBody, req.body ?? {}, 'body');
    res.json(
      await directory.updateTeam(actorOf(res), param(req, 'name'), {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.slackChannelId !== undefined ? { slackChannelId: body.slackChannelId } : {}),
        ...(body.teamsConversationId !== undefined ? { teamsConversationId: body.teamsConversationId } : {}),
      }),
    );
  });

  router.post('/teams/:name/members/:user', scope('directory:write'), async (req, res) => {
    const result = await directory.addMember(actorOf(res), param(req, 'name'), param(req, 'user'));
    res.status(result.added ? 201 : 200).json(result);
  });

  router.delete('/teams/:name/members/:user', scope('directory:write'), async (req, res) => {
    res.json(await directory.removeMember(actorOf(res), param(req, 'name'), param(req, 'user')));
  });

  router.get('/users', scope('directory:read'), async (req, res) => {
    const q = parse(S.ListUsersQuery, req.query, 'query');
    const users = await directory.listUsers(actorOf(res), { ...(q.team ? { team: q.team } : {}), ...(q.role ? { role: q.role } : {}) });
    res.json({ users });
  });

  router.patch('/users/:user', scope('directory:write'), async (req, res) => {
    const body = parse(S.UpdateUserBody, req.body ?? {}, 'body');
    res.json(await directory.setRole(actorOf(res), param(req, 'user'), body.role));
  });

  router.use((_req, _res) => {
    throw new ApiError(404, 'not_found', 'No such endpoint.');
  });
  router.use(apiErrorHandler(logger));
  return router;
}
