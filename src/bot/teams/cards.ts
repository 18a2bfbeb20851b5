/**
 * Adaptive Cards (schema 1.5) for Teams: the live run card with Cancel / Retry as `Action.Execute`
 * (Universal Actions), the failure alert, the workflow list and the other command replies.
 *
 * Everything user-controlled (names, titles, outputs, errors) goes through {@link userText}: mentions
 * neutralised, control characters dropped, length capped, and rendered as `TextRun`s, which Teams
 * does not interpret as markdown (so a workflow name cannot inject links or formatting).
 * Every card is measured after rendering and shrunk until it fits {@link MAX_CARD_BYTES}, because
 * Teams rejects a message over about 28 KB however it got that big.
 */
import type { RunStepView, RunView, FailureAlert } from '../../engine/ports.js';
import type { WorkflowSummary, ExecutionSummary } from '../../app/services.js';
import type { Reply } from '../reply.js';
import { formatDuration, neutralizeMentions, truncate, truncateMiddle } from '../text.js';

/** Card JSON budget in UTF-8 bytes: Teams' ~28 KB message limit minus room for the activity envelope. */
export const MAX_CARD_BYTES = 24_000;

/** The `Action.Execute` verbs our cards send back in `adaptiveCard/action` invokes. */
export const VERBS = { cancel: 'run_cancel', retry: 'run_retry' } as const;
export type RunVerb = (typeof VERBS)[keyof typeof VERBS];

/** The `data` of our `Action.Execute` buttons. */
export interface RunActionData {
  executionId: string;
  /** The run revision the card showed when rendered (lets us tell a stale card). */
  revision?: number;
}

/** A minimal structural type for Adaptive Card JSON. */
export type CardElement = Record<string, unknown>;
export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: string;
  version: '1.5';
  body: CardElement[];
  actions?: CardElement[];
  msteams?: { width: 'Full' };
}

/** Size limits applied to user-controlled text; shrunk step by step if a card is still too big. */
interface Limits {
  name: number;
  label: number;
  summary: number;
  error: number;
  maxSteps: number;
  maxRows: number;
}

const LIMIT_LADDER: Limits[] = [
  { name: 200, label: 120, summary: 200, error: 1500, maxSteps: 30, maxRows: 40 },
  { name: 120, label: 80, summary: 100, error: 600, maxSteps: 20, maxRows: 25 },
  { name: 80, label: 50, summary: 50, error: 300, maxSteps: 12, maxRows: 15 },
  { name: 40, label: 30, summary: 0, error: 120, maxSteps: 6, maxRows: 8 },
];

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028\u2029]/g;

/** Make user-controlled text safe to show: no pings, no control characters, at most `max` characters. */
export function userText(value: unknown, max: number, middle = false): string {
  const text = neutralizeMentions(String(value ?? '')).replace(CONTROL, '');
  return middle ? truncateMiddle(text, max) : truncate(text, max);
}

/** JSON size in UTF-8 bytes (what Teams counts). */
export function cardBytes(card: unknown): number {
  return Buffer.byteLength(JSON.stringify(card), 'utf8');
}

function card(body: CardElement[], actions: CardElement[] = []): AdaptiveCard {
  const c: AdaptiveCard = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
    msteams: { width: 'Full' },
  };
  if (actions.length > 0) c.actions = actions;
  return c;
}

/** A line of our own words (may use markdown) with optional user text appended as a literal run. */
function line(prefix: string, user?: string, opts: { weight?: string; size?: string; color?: string; subtle?: boolean; italic?: boolean } = {}): CardElement {
  const runs: CardElement[] = [];
  const style = {
    ...(opts.weight ? { weight: opts.weight } : {}),
    ...(opts.size ? { size: opts.size } : {}),
    ...(opts.color ? { color: opts.color } : {}),
    ...(opts.subtle ? { isSubtle: true } : {}),
    ...(opts.italic ? { italic: true } : {}),
  };
  if (prefix) runs.push({ type: 'TextRun', text: prefix, ...style });
  if (user) runs.push({ type: 'TextRun', text: user, ...style });
  return { type: 'RichTextBlock', inlines: runs.length > 0 ? runs : [{ type: 'TextRun', text: ' ' }] };
}

const STATUS_LABEL: Record<RunView['status'], string> = {
  PENDING: '⏳ Queued',
  RUNNING: '▶️ Running',
  COMPLETED: '✅ Completed',
  FAILED: '❌ Failed',
  CANCELLED: '⏹️ Cancelled',
};

const STEP_ICON: Record<RunStepView['state'], string> = {
  pending: '⚪',
  running: '🔄',
  completed: '✅',
  failed: '❌',
  skipped: '⏭️',
  cancelled: '⏹️',
  waiting: '⏸️',
};

const STATUS_COLOR: Record<RunView['status'], string> = {
  PENDING: 'Default',
  RUNNING: 'Accent',
  COMPLETED: 'Good',
  FAILED: 'Attention',
  CANCELLED: 'Warning',
};

function triggerText(view: RunView, limits: Limits): string {
  const by = view.trigger.by ? ` by ${userText(view.trigger.by, limits.name)}` : '';
  return `${view.trigger.type.replace(/_/g, ' ')}${by}`;
}

function incidentText(incident: RunView['incident'], limits: Limits): string {
  const number = incident.number !== undefined ? `#${incident.number} ` : '';
  return `${number}${userText(incident.title, limits.name)}`;
}

function runDuration(view: RunView): string | undefined {
  if (!view.startedAt) return undefined;
  const end = view.finishedAt ? Date.parse(view.finishedAt) : undefined;
  if (end === undefined) return undefined;
  const ms = end - Date.parse(view.startedAt);
  return Number.isFinite(ms) ? formatDuration(Math.max(0, ms)) : undefined;
}

function stepRow(step: RunStepView, limits: Limits): CardElement {
  const detail: string[] = [];
  if (step.durationMs !== undefined) detail.push(formatDuration(step.durationMs));
  const items: CardElement[] = [line(`${STEP_ICON[step.state]} `, userText(step.label || step.nodeId, limits.label), { weight: step.state === 'failed' ? 'Bolder' : 'Default' })];
  if (step.summary && limits.summary > 0) items.push(line('', userText(step.summary, limits.summary), { subtle: true }));
  const row: CardElement = {
    type: 'ColumnSet',
    spacing: 'Small',
    columns: [
      { type: 'Column', width: 'stretch', items },
      { type: 'Column', width: 'auto', items: [line(detail.join(' '), undefined, { subtle: true })] },
    ],
  };
  // Links go only to http(s) URLs: a `javascript:` or other scheme from an output is dropped.
  if (step.url && /^https?:\/\//i.test(step.url) && step.url.length <= 2000) row.selectAction = { type: 'Action.OpenUrl', url: step.url };
  return row;
}

function runCardWith(view: RunView, limits: Limits): AdaptiveCard {
  const body: CardElement[] = [];
  body.push(line('Workflow ', userText(view.workflowName, limits.name), { weight: 'Bolder', size: 'Medium' }));
  const facts = [
    { title: 'Status', value: STATUS_LABEL[view.status] + (view.cancelReason ? ` (${view.cancelReason})` : '') },
    { title: 'Incident', value: incidentText(view.incident, limits) },
    { title: 'Trigger', value: triggerText(view, limits) },
  ];
  const took = runDuration(view);
  if (took) facts.push({ title: 'Took', value: took });
  // FactSet values render markdown, so user parts are escaped there (see escapeMarkdown).
  body.push({ type: 'FactSet', facts: facts.map((f) => ({ title: f.title, value: escapeMarkdown(f.value) })) });
  body.push({ type: 'TextBlock', text: STATUS_LABEL[view.status], color: STATUS_COLOR[view.status], weight: 'Bolder', spacing: 'Small', wrap: true });

  const shown = view.steps.slice(0, limits.maxSteps);
  // Always show the failed step even when it is beyond the cap.
  const failed = view.steps.find((s) => s.state === 'failed');
  if (failed && !shown.includes(failed)) shown[shown.length - 1] = failed;
  for (const step of shown) body.push(stepRow(step, limits));
  if (view.steps.length > shown.length) body.push(line(`… and ${view.steps.length - shown.length} more steps`, undefined, { subtle: true, italic: true }));

  const error = failed?.error ?? view.error;
  if (error && (view.status === 'FAILED' || failed)) {
    body.push({
      type: 'Container',
      style: 'attention',
      spacing: 'Medium',
      items: [
        line(failed ? 'Failed at ' : 'Error', failed ? userText(failed.label || failed.nodeId, limits.label) : undefined, { weight: 'Bolder' }),
        line('', userText(error, limits.error, true)),
      ],
    });
  }
  return card(body, runActions(view));
}

function runActions(view: Pick<RunView, 'executionId' | 'revision' | 'actions'>): CardElement[] {
  const data: RunActionData = { executionId: view.executionId, revision: view.revision };
  const actions: CardElement[] = [];
  if (view.actions.includes('cancel')) actions.push({ type: 'Action.Execute', title: 'Cancel', verb: VERBS.cancel, data, style: 'destructive' });
  if (view.actions.includes('retry')) actions.push({ type: 'Action.Execute', title: 'Retry', verb: VERBS.retry, data, style: 'positive' });
  return actions;
}

/** Markdown characters Teams interprets in TextBlock / FactSet text, backslash-escaped. */
export function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]()#<>~|!{}-])/g, '\\$1');
}

/** Render the first rung of the limit ladder that fits the byte budget; the last rung is a bare card. */
function fit<T>(value: T, render: (value: T, limits: Limits) => AdaptiveCard, fallback: (value: T) => AdaptiveCard): AdaptiveCard {
  for (const limits of LIMIT_LADDER) {
    const c = render(value, limits);
    if (cardBytes(c) <= MAX_CARD_BYTES) return c;
  }
  return fallback(value);
}

/** The live run card: status, steps with state and duration, the failed step's error, Cancel / Retry. */
export function renderRunCard(view: RunView): AdaptiveCard {
  return fit(view, runCardWith, (v) =>
    card([line('Workflow run ', userText(v.workflowName, 40)), line(STATUS_LABEL[v.status])], runActions(v)),
  );
}

function failureCardWith(alert: FailureAlert, limits: Limits): AdaptiveCard {
  const view = alert.run;
  const body: CardElement[] = [
    line('❌ Workflow failed: ', userText(view.workflowName, limits.name), { weight: 'Bolder', size: 'Medium', color: 'Attention' }),
    {
      type: 'FactSet',
      facts: [
        { title: 'Incident', value: escapeMarkdown(incidentText(view.incident, limits)) },
        { title: 'Trigger', value: escapeMarkdown(triggerText(view, limits)) },
        ...(alert.failedStep ? [{ title: 'Failed step', value: escapeMarkdown(userText(alert.failedStep, limits.label)) }] : []),
      ],
    },
    { type: 'Container', style: 'attention', items: [line('', userText(alert.error, limits.error, true))] },
  ];
  const retry = runActions({ executionId: view.executionId, revision: view.revision, actions: view.actions.filter((a) => a === 'retry') });
  return card(body, retry);
}

/** A failure alert for the team channel and personal messages, with Retry when the run allows it. */
export function renderFailureCard(alert: FailureAlert): AdaptiveCard {
  return fit(alert, failureCardWith, (a) =>
    card([line('❌ Workflow failed: ', userText(a.run.workflowName, 40))], runActions({ ...a.run, actions: a.run.actions.filter((x) => x === 'retry') })),
  );
}

function workflowListWith(workflows: WorkflowSummary[], limits: Limits): AdaptiveCard {
  const body: CardElement[] = [line(`Workflows (${workflows.length})`, undefined, { weight: 'Bolder', size: 'Medium' })];
  for (const wf of workflows.slice(0, limits.maxRows)) {
    const last = wf.lastRun ? `last run ${wf.lastRun.status.toLowerCase()} ${wf.lastRun.at.slice(0, 16).replace('T', ' ')}` : 'never run';
    body.push({
      type: 'ColumnSet',
      spacing: 'Small',
      separator: true,
      columns: [
        {
          type: 'Column',
          width: 'stretch',
          items: [
            line(wf.enabled ? '🟢 ' : '⚪ ', userText(wf.name, limits.name), { weight: 'Bolder' }),
            ...(wf.description && limits.summary > 0 ? [line('', userText(wf.description, limits.summary), { subtle: true })] : []),
          ],
        },
        {
          type: 'Column',
          width: 'auto',
          items: [line(`${userText(wf.scope, limits.label)} · ${wf.triggerType.replace(/_/g, ' ')} · v${wf.version} · ${wf.enabled ? 'enabled' : 'disabled'} · ${last}`, undefined, { subtle: true })],
        },
      ],
    });
  }
  if (workflows.length > limits.maxRows) body.push(line(`… and ${workflows.length - limits.maxRows} more`, undefined, { subtle: true, italic: true }));
  return card(body);
}

/** `workflow list`: name, state, scope, trigger, version and last run of each workflow. */
export function renderWorkflowListCard(workflows: WorkflowSummary[]): AdaptiveCard {
  return fit(workflows, workflowListWith, (w) => card([line(`Workflows (${w.length}): too many to show here; use the HTTP API.`)]));
}

function historyWith(runs: ExecutionSummary[], limits: Limits): AdaptiveCard {
  const body: CardElement[] = [line('Recent runs', undefined, { weight: 'Bolder', size: 'Medium' })];
  for (const run of runs.slice(0, limits.maxRows)) {
    body.push(line(`${STATUS_LABEL[run.status]} · ${run.createdAt.slice(0, 16).replace('T', ' ')} · `, userText(run.workflowName, limits.name)));
    if (run.error) body.push(line('', userText(run.error, limits.summary || 60, true), { subtle: true }));
  }
  return card(body);
}

/** Render any command {@link Reply} as an Adaptive Card, or as plain text for text replies. */
export function renderReply(reply: Reply): { card: AdaptiveCard } | { text: string } {
  switch (reply.kind) {
    case 'text':
      return { text: userText(reply.text, 4000) };
    case 'workflow_list':
      return { card: renderWorkflowListCard(reply.workflows) };
    case 'run_history':
      return { card: fit(reply.runs, historyWith, () => card([line('Recent runs: too many to show.')])) };
    case 'help':
      return {
        card: card([
          line(`${reply.command} commands`, undefined, { weight: 'Bolder', size: 'Medium' }),
          ...reply.entries.map((e) => line(`${reply.command} ${e.usage}: ${e.description}${e.adminOnly ? ' (admins)' : ''}`)),
          line('In a channel, @mention the bot first.', undefined, { subtle: true }),
        ]),
      };
    case 'incident_card':
      return {
        card: fit(
          reply,
          (r, limits) =>
            card([
              line('', userText(r.headline, limits.name), { weight: 'Bolder' }),
              {
                type: 'FactSet',
                facts: [
                  { title: 'Incident', value: escapeMarkdown(`#${r.incident.number} ${userText(r.incident.title, limits.name)}`) },
                  { title: 'Priority', value: escapeMarkdown(userText(r.incident.priority, 10)) },
                  { title: 'Status', value: escapeMarkdown(userText(r.incident.status, 40)) },
                  { title: 'Team', value: escapeMarkdown(userText(r.incident.teamName, limits.name)) },
                  { title: 'Assignee', value: escapeMarkdown(userText(r.incident.assigneeName ?? 'nobody', limits.name)) },
                ],
              },
            ]),
          (r) => card([line(`Incident #${r.incident.number}`)]),
        ),
      };
    case 'workflow_detail':
      return {
        card: fit(
          reply,
          (r, limits) =>
            card([
              line('Workflow ', userText(r.workflow.name, limits.name), { weight: 'Bolder', size: 'Medium' }),
              line('', userText(r.workflow.description, limits.error)),
              line(`${r.workflow.enabled ? 'enabled' : 'disabled'} · ${r.workflow.triggerType} · v${r.workflow.version} · scope `, userText(r.workflow.scope, limits.label), { subtle: true }),
              line('', userText(JSON.stringify(r.workflow.definition ?? null), limits.error * 4), { subtle: true }),
            ]),
          (r) => card([line('Workflow ', userText(r.workflow.name, 40))]),
        ),
      };
    case 'dry_run':
      return {
        card: fit(
          reply,
          (r, limits) =>
            card([
              line(`Dry run: ${r.matches ? 'the trigger matches' : 'the trigger does not match'} for `, userText(r.workflowName, limits.name), { weight: 'Bolder' }),
              ...r.reasons.slice(0, limits.maxRows).map((reason) => line('• ', userText(reason, limits.summary || 60))),
              ...r.actions.slice(0, limits.maxSteps).map((a) => line('', userText(`${a.nodeId} (${a.action}): ${JSON.stringify(a.input ?? null)}`, limits.summary || 60), { subtle: true })),
            ]),
          (r) => card([line('Dry run for ', userText(r.workflowName, 40))]),
        ),
      };
  }
}
