/** The OpenAPI 3.1 document of the API, generated from the zod schemas the router validates with. */
import { z } from 'zod';
import { ErrorBodySchema } from './errors.js';
import * as S from './schemas.js';
import { API_SCOPES, type ApiScope } from './tokens.js';

type JsonSchema = Record<string, unknown>;

function schema(s: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

/** Query parameters from an object schema, one OpenAPI parameter per property. */
function queryParameters(s: z.ZodObject): JsonSchema[] {
  const json = schema(s, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, prop]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: prop,
    ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
  }));
}

const pathParam = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string' }, description });
const idempotencyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', maxLength: 255 },
  description: 'Repeating a request with the same key returns the first result (header Idempotent-Replayed: true).',
};

const errorRef = { $ref: '#/components/schemas/Error' };
function errors(...statuses: number[]): Record<string, unknown> {
  const text: Record<number, string> = {
    400: 'Malformed JSON or invalid query parameters',
    401: 'No token, or an unknown or revoked token',
    403: 'The token lacks the required scope',
    404: 'Not found',
    409: 'Conflict',
    413: 'Request body larger than 1 MiB',
    415: 'Request body is not JSON',
    422: 'Validation failed (the offending field is named)',
  };
  return Object.fromEntries(
    [401, 403, ...statuses].map((s) => [String(s), { description: text[s] ?? 'Error', content: { 'application/json': { schema: errorRef } } }]),
  );
}

function json(s: z.ZodType, description: string) {
  return { description, content: { 'application/json': { schema: schema(s, 'output') } } };
}

function body(s: z.ZodType) {
  return { required: true, content: { 'application/json': { schema: schema(s, 'input') } } };
}

function op(summary: string, scope: ApiScope, rest: Record<string, unknown>) {
  return { summary, security: [{ bearer: [scope] }], ...rest };
}

/** Build the document (pure; the router builds it once). */
export function buildOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Incident workflows API',
      version: '1.0.0',
      description: 'Incidents, workflows and their runs; teams and users. Authenticate with `Authorization: Bearer <token>`; each token holds scopes.',
    },
    servers: [{ url: '/api/v1' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: `Scopes: ${API_SCOPES.join(', ')}` },
      },
      schemas: { Error: schema(ErrorBodySchema, 'output') },
    },
    paths: {
      '/incidents': {
        get: op('List incidents', 'incidents:read', {
          parameters: queryParameters(S.ListIncidentsQuery),
          responses: { '200': json(S.IncidentList, 'Incidents, newest first'), ...errors(400) },
        }),
        post: op('Declare an incident (emits incident_created)', 'incidents:write', {
          parameters: [idempotencyHeader],
          requestBody: body(S.CreateIncidentBody),
          responses: { '201': json(S.Incident, 'The new incident'), ...errors(400, 409, 413, 415, 422) },
        }),
      },
      '/incidents/{id}': {
        get: op('Get an incident', 'incidents:read', {
          parameters: [pathParam('id', 'Incident id or number')],
          responses: { '200': json(S.Incident, 'The incident'), ...errors(404) },
        }),
        patch: op('Change status, priority or assignee (a status change emits state_changed)', 'incidents:write', {
          parameters: [pathParam('id', 'Incident id or number')],
          requestBody: body(S.UpdateIncidentBody),
          responses: { '200': json(S.Incident, 'The incident after the change'), ...errors(400, 404, 413, 415, 422) },
        }),
      },
      '/incidents/{id}/escalate': {
        post: op('Escalate an incident (emits escalation)', 'incidents:write', {
          parameters: [pathParam('id', 'Incident id or number'), idempotencyHeader],
          responses: { '200': json(S.Incident, 'The incident after the escalation'), ...errors(404, 409) },
        }),
      },
      '/workflows': {
        get: op('List workflows with their last run', 'workflows:read', { responses: { '200': json(S.WorkflowList, 'Workflows by name') } }),
        post: op('Apply a workflow document (create, or update as a new version)', 'workflows:write', {
          parameters: [idempotencyHeader],
          requestBody: body(S.ApplyWorkflowBody),
          responses: {
            '201': json(S.ApplyResult, 'Created'),
            '200': json(S.ApplyResult, 'Updated, or unchanged'),
            ...errors(400, 409, 413, 415, 422),
          },
        }),
      },
      '/workflows/{name}': {
        get: op('Get a workflow with its current document', 'workflows:read', {
          parameters: [pathParam('name', 'Workflow name')],
          responses: { '200': json(S.WorkflowDetail, 'The workflow'), ...errors(404) },
        }),
      },
      '/workflows/{name}/enable': {
        post: op('Enable a workflow', 'workflows:write', {
          parameters: [pathParam('name', 'Workflow name')],
          responses: { '200': json(S.Workflow, 'The workflow'), ...errors(404) },
        }),
      },
      '/workflows/{name}/disable': {
        post: op('Disable a workflow; its queued runs are cancelled, running ones finish', 'workflows:write', {
          parameters: [pathParam('name', 'Workflow name')],
          responses: { '200': json(S.Workflow, 'The workflow'), ...errors(404) },
        }),
      },
      '/executions': {
        get: op('List workflow runs', 'executions:read', {
          parameters: queryParameters(S.ListExecutionsQuery),
          responses: { '200': json(S.ExecutionList, 'Runs, newest first'), ...errors(400) },
        }),
      },
      '/executions/{id}': {
        get: op('Get a run with its node results', 'executions:read', {
          parameters: [pathParam('id', 'Execution id')],
          responses: { '200': json(S.ExecutionDetail, 'The run with its node results and steps'), ...errors(404) },
        }),
      },
      '/executions/{id}/cancel': {
        post: op('Cancel a run', 'executions:write', {
          parameters: [pathParam('id', 'Execution id')],
          responses: {
            '200': json(S.CancelResult, 'Cancelled before it ran'),
            '202': json(S.CancelResult, 'The worker running it is stopping it'),
            ...errors(404, 409),
          },
        }),
      },
      '/executions/{id}/retry': {
        post: op('Retry a failed or cancelled run from the step that did not complete', 'executions:write', {
          parameters: [pathParam('id', 'Execution id'), idempotencyHeader],
          responses: { '202': json(S.RetryResult, 'A new attempt is queued'), ...errors(404, 409) },
        }),
      },
      '/teams': {
        get: op('List teams with their member counts and channels', 'directory:read', { responses: { '200': json(S.TeamList, 'Teams by name') } }),
        post: op('Create a team', 'directory:write', {
          parameters: [idempotencyHeader],
          requestBody: body(S.CreateTeamBody),
          responses: { '201': json(S.Team, 'The new team'), ...errors(400, 409, 413, 415, 422) },
        }),
      },
      '/teams/{name}': {
        patch: op('Rename a team or change its Slack channel / Teams conversation', 'directory:write', {
          parameters: [pathParam('name', 'Team name or id')],
          requestBody: body(S.UpdateTeamBody),
          responses: { '200': json(S.Team, 'The team after the change'), ...errors(400, 404, 409, 413, 415, 422) },
        }),
      },
      '/teams/{name}/members/{user}': {
        post: op('Add a user to a team', 'directory:write', {
          parameters: [pathParam('name', 'Team name or id'), pathParam('user', 'User id, e-mail, Slack user id or Teams user id')],
          responses: {
            '201': json(S.Membership, 'Added'),
            '200': json(S.Membership, 'Already a member'),
            ...errors(404),
          },
        }),
        delete: op('Remove a user from a team', 'directory:write', {
          parameters: [pathParam('name', 'Team name or id'), pathParam('user', 'User id, e-mail, Slack user id or Teams user id')],
          responses: { '200': json(S.Membership, 'Removed'), ...errors(404) },
        }),
      },
      '/users': {
        get: op('List users with their identities, role and teams', 'directory:read', {
          parameters: queryParameters(S.ListUsersQuery),
          responses: { '200': json(S.UserList, 'Users by name'), ...errors(400, 404) },
        }),
      },
      '/users/{user}': {
        patch: op('Set a user\'s role', 'directory:write', {
          parameters: [pathParam('user', 'User id, e-mail, Slack user id or Teams user id')],
          requestBody: body(S.UpdateUserBody),
          responses: { '200': json(S.User, 'The user after the change'), ...errors(400, 404, 413, 415, 422) },
        }),
      },
    },
  };
}
