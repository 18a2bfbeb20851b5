/**
 * Request and response schemas of the HTTP API. Requests are validated with them; the OpenAPI
 * document (openapi.ts) is generated from the very same objects.
 */
import { z } from 'zod';
import { INCIDENT_PRIORITIES, INCIDENT_STATUSES } from '../../app/PrismaIncidentService.js';
import { SLACK_CHANNEL_ID } from '../../app/PrismaDirectoryAdmin.js';
import { TRIGGER_TYPES } from '../../engine/types.js';

const EXECUTION_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
const USER_ROLES = ['ADMIN', 'MEMBER'] as const;
const limit = z.coerce.number().int().min(1).max(200).optional().describe('Maximum number of items (default 50).');
const isoDate = z.string().describe('ISO 8601 date-time');

// --- requests ---------------------------------------------------------------------------------

export const CreateIncidentBody = z.strictObject({
  title: z.string().trim().min(1).max(500),
  priority: z.enum(INCIDENT_PRIORITIES).optional().describe('Defaults to P3.'),
  team: z.string().min(1).describe('Owning team: its id or its name.'),
  metadata: z.record(z.string(), z.unknown()).optional().describe('Free-form fields conditions can match (e.g. metadata.service).'),
});

export const UpdateIncidentBody = z
  .strictObject({
    status: z.enum(INCIDENT_STATUSES).optional(),
    priority: z.enum(INCIDENT_PRIORITIES).optional(),
    assigneeId: z.uuid().nullable().optional().describe('User id, or null to unassign.'),
  })
  .refine((v) => v.status !== undefined || v.priority !== undefined || v.assigneeId !== undefined, {
    message: 'set at least one of status, priority, assigneeId',
  });

export const ListIncidentsQuery = z.object({
  status: z.enum(INCIDENT_STATUSES).optional(),
  teamId: z.uuid().optional(),
  limit,
});

export const ApplyWorkflowBody = z.strictObject({
  document: z
    .union([z.string().min(1), z.record(z.string(), z.unknown())])
    .describe('One workflow document: YAML text, or the document as a JSON object.'),
});

export const ListExecutionsQuery = z.object({
  incidentId: z.string().min(1).optional().describe('Incident id or number.'),
  workflowId: z.uuid().optional(),
  status: z.enum(EXECUTION_STATUSES).optional(),
  limit,
});

const slackChannelId = z.string().regex(SLACK_CHANNEL_ID, 'a Slack channel id (C… or G…)');
const teamsConversationId = z.string().trim().min(1).max(500);

export const CreateTeamBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  slackChannelId: slackChannelId.optional().describe('Slack channel for the team\'s failure alerts.'),
  teamsConversationId: teamsConversationId.optional().describe('Teams conversation for the team\'s failure alerts.'),
});

export const UpdateTeamBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional().describe('New name.'),
    slackChannelId: slackChannelId.nullable().optional().describe('Slack channel id, or null to clear it.'),
    teamsConversationId: teamsConversationId.nullable().optional().describe('Teams conversation id, or null to clear it.'),
  })
  .refine((v) => v.name !== undefined || v.slackChannelId !== undefined || v.teamsConversationId !== undefined, {
    message: 'set at least one of name, slackChannelId, teamsConversationId',
  });

export const ListUsersQuery = z.object({
  team: z.string().min(1).optional().describe('Only members of this team (name or id).'),
  role: z.enum(USER_ROLES).optional(),
});

export const UpdateUserBody = z.strictObject({
  role: z.enum(USER_ROLES).describe('ADMIN manages workflows and the directory; MEMBER acts on incidents of their teams.'),
});

// --- responses --------------------------------------------------------------------------------

export const Incident = z.object({
  id: z.uuid(),
  number: z.number().int(),
  title: z.string(),
  priority: z.string(),
  status: z.string(),
  teamId: z.uuid(),
  teamName: z.string(),
  assigneeId: z.uuid().nullable(),
  assigneeName: z.string().nullable(),
  escalationLevel: z.number().int(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export const IncidentList = z.object({ incidents: z.array(Incident) });

export const Workflow = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  scope: z.string().describe('Team name, or "global".'),
  triggerType: z.enum(TRIGGER_TYPES as [string, ...string[]]),
  enabled: z.boolean(),
  version: z.number().int(),
  lastRun: z.object({ status: z.enum(EXECUTION_STATUSES), at: isoDate }).nullable(),
});

export const WorkflowDetail = Workflow.extend({ definition: z.record(z.string(), z.unknown()).describe('The current workflow document.') });
export const WorkflowList = z.object({ workflows: z.array(Workflow) });

export const ApplyResult = z.object({
  changes: z.array(
    z.object({
      name: z.string(),
      action: z.enum(['create', 'update', 'unchanged']),
      fromVersion: z.number().int().nullable(),
      toVersion: z.number().int().nullable(),
      changed: z.array(z.string()),
    }),
  ),
  workflow: Workflow.optional(),
});

export const NodeResult = z.object({
  status: z.enum(['completed', 'failed', 'cancelled', 'waiting']),
  output: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  branch: z.boolean().optional(),
  attempts: z.number().int(),
  startedAt: isoDate,
  finishedAt: isoDate.optional(),
  resumeAt: isoDate.optional(),
});

export const Execution = z.object({
  id: z.uuid(),
  workflowId: z.uuid(),
  workflowName: z.string(),
  workflowVersion: z.number().int(),
  incidentId: z.uuid(),
  status: z.enum(EXECUTION_STATUSES),
  triggerType: z.string(),
  error: z.string().nullable(),
  attempt: z.number().int(),
  nodeResults: z.record(z.string(), NodeResult),
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  completedAt: isoDate.nullable(),
});

export const ExecutionList = z.object({ executions: z.array(Execution) });

export const ExecutionDetail = Execution.extend({
  steps: z
    .array(
      z.object({
        nodeId: z.string(),
        label: z.string(),
        kind: z.enum(['action', 'condition', 'delay']),
        state: z.enum(['pending', 'running', 'completed', 'failed', 'skipped', 'cancelled', 'waiting']),
        durationMs: z.number().optional(),
        summary: z.string().optional(),
        url: z.string().optional(),
        error: z.string().optional(),
      }),
    )
    .describe('The run step by step, as chat shows it (in the order of the pinned definition).'),
});

export const CancelResult = z.object({
  outcome: z.enum(['cancelled', 'cancelling', 'already_finished']),
  status: z.enum(EXECUTION_STATUSES),
});

export const RetryResult = z.object({
  outcome: z.enum(['retrying', 'already_retrying', 'refused']),
  message: z.string(),
});

export const Team = z.object({
  id: z.uuid(),
  name: z.string(),
  slackChannelId: z.string().nullable(),
  teamsConversationId: z.string().nullable(),
  memberCount: z.number().int(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export const TeamList = z.object({ teams: z.array(Team) });

export const User = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string().nullable(),
  slackUserId: z.string().nullable(),
  teamsUserId: z.string().nullable(),
  role: z.enum(USER_ROLES),
  teams: z.array(z.string()).describe('Names of the teams the user belongs to.'),
  createdAt: isoDate,
});

export const UserList = z.object({ users: z.array(User) });

export const Membership = z.object({
  team: Team,
  user: User,
  added: z.boolean().optional().describe('On add: false when the user already was a member.'),
});
