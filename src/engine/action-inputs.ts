/**
 * The input each action type accepts, as zod schemas. A definition is checked against these
 * when it is loaded (template strings stand in for any type there) and the rendered input is
 * checked again right before the action runs.
 *
 * Secrets: `{{secrets.NAME}}` may appear only where a value is sent and never kept by us or
 * shown to people: a webhook's `url`, `headers` and `body`. Everywhere else (ticket text,
 * chat messages, incident fields) a secret would end up stored or displayed, so it is refused.
 */
import { z } from 'zod';

/** Action types a workflow can use. */
export const ACTION_TYPES = ['webhook', 'jira.create_issue', 'linear.create_issue', 'incident.update', 'chat.post'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** A secret's name, as stored in ActionSecret and referenced by `{{secrets.NAME}}`. */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const httpUrl = z
  .string()
  .min(1)
  .refine((v) => /^https?:\/\//i.test(v) || v.startsWith('{{'), { message: 'must be an http(s) URL' });

export const WebhookInputSchema = z.strictObject({
  url: httpUrl,
  method: z.enum(['POST', 'PUT', 'PATCH', 'GET', 'DELETE']).default('POST'),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  /** Name of the secret used to sign the body (HMAC-SHA256), never the secret itself. */
  signingSecret: z.string().regex(SECRET_NAME_PATTERN, 'must be a secret name (letters, digits, underscore)').optional(),
});

export const JiraCreateIssueInputSchema = z.strictObject({
  project: z.string().min(1),
  issueType: z.string().min(1).default('Task'),
  summary: z.string().min(1).max(255),
  description: z.string().optional(),
  labels: z.array(z.string().min(1)).optional(),
  priority: z.string().min(1).optional(),
});

export const LinearCreateIssueInputSchema = z.strictObject({
  teamId: z.string().min(1),
  title: z.string().min(1),
  description: z.string().optional(),
  priority: z.number().int().min(0).max(4).optional(),
  labelIds: z.array(z.string().min(1)).optional(),
});

export const IncidentUpdateInputSchema = z
  .strictObject({
    status: z.string().min(1).optional(),
    priority: z.string().min(1).optional(),
    assignee: z.string().min(1).optional(),
  })
  .refine((v) => v.status !== undefined || v.priority !== undefined || v.assignee !== undefined, {
    message: 'set at least one of status, priority, assignee',
  });

export const ChatPostInputSchema = z.strictObject({
  channel: z.enum(['incident', 'team']),
  text: z.string().min(1).max(3000),
});

/** Input schema per action type. */
export const ACTION_INPUT_SCHEMAS = {
  webhook: WebhookInputSchema,
  'jira.create_issue': JiraCreateIssueInputSchema,
  'linear.create_issue': LinearCreateIssueInputSchema,
  'incident.update': IncidentUpdateInputSchema,
  'chat.post': ChatPostInputSchema,
} as const satisfies Record<ActionType, z.ZodType>;

export type WebhookInput = z.output<typeof WebhookInputSchema>;
export type JiraCreateIssueInput = z.output<typeof JiraCreateIssueInputSchema>;
export type LinearCreateIssueInput = z.output<typeof LinearCreateIssueInputSchema>;
export type IncidentUpdateInput = z.output<typeof IncidentUpdateInputSchema>;
export type ChatPostInput = z.output<typeof ChatPostInputSchema>;

/** Top-level input fields of each action where `{{secrets.NAME}}` may appear. */
export const SECRET_FIELDS: Record<ActionType, readonly string[]> = {
  webhook: ['url', 'headers', 'body'],
  'jira.create_issue': [],
  'linear.create_issue': [],
  'incident.update': [],
  'chat.post': [],
};

/** Whether `actionType` is one we know. */
export function isActionType(value: string): value is ActionType {
  return (ACTION_TYPES as readonly string[]).includes(value);
}
