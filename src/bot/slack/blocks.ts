/**
 * Block Kit rendering: run messages, failure alerts and command replies. Every function returns a
 * message inside Block Kit's limits whatever the input (see limits.ts), with user-controlled text
 * neutralised (no `@channel` pings, no mention syntax) and escaped for mrkdwn.
 */
import type { ExecutionSummary, WorkflowSummary } from '../../app/services.js';
import type { FailureAlert, RunStepView, RunView } from '../../engine/ports.js';
import type { Reply, Tone } from '../reply.js';
import { durationBetween, formatDuration, neutralizeMentions, truncate, truncateMiddle } from '../text.js';
import { LIMITS, type ButtonElement, type SlackBlock, type SlackMessage } from './limits.js';

/** action_id of the Cancel button on a run message. */
export const ACTION_RUN_CANCEL = 'run_cancel';
/** action_id of the Retry button on a run message and a failure alert. */
export const ACTION_RUN_RETRY = 'run_retry';
/** Every action_id the renderers emit (the handlers register exactly these). */
export const RUN_ACTION_IDS = [ACTION_RUN_CANCEL, ACTION_RUN_RETRY] as const;

const RUN_STATUS_EMOJI: Record<RunView['status'], string> = {
  PENDING: ':hourglass:',
  RUNNING: ':arrows_counterclockwise:',
  COMPLETED: ':white_check_mark:',
  FAILED: ':x:',
  CANCELLED: ':no_entry_sign:',
};

const STEP_EMOJI: Record<RunStepView['state'], string> = {
  pending: ':white_circle:',
  running: ':hourglass_flowing_sand:',
  completed: ':white_check_mark:',
  failed: ':x:',
  skipped: ':fast_forward:',
  cancelled: ':no_entry_sign:',
  waiting: ':clock3:',
};

const TONE_EMOJI: Record<Tone, string> = { info: ':information_source:', success: ':white_check_mark:', warning: ':warning:', error: ':x:' };

// ---------------------------------------------------------------------------------------------
// Escaping

/** Escape the three characters mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cut escaped text to `max` without leaving half an entity (`&am…`). */
function cutEscaped(escaped: string, max: number, middle = false): string {
  if (escaped.length <= max) return escaped;
  let out = middle ? truncateMiddle(escaped, max) : truncate(escaped, max);
  // Drop a partial entity just before or around the ellipsis.
  out = out.replace(/&[a-z]{0,4}…/g, '…').replace(/…[a-z]{0,4};/g, '…');
  return out;
}

/** User text made safe for a mrkdwn field: neutralised, escaped, at most `max` characters. */
export function userText(text: string, max: number): string {
  return cutEscaped(escapeMrkdwn(neutralizeMentions(text)), max);
}

/** User text on one line (labels, names). */
export function userLabel(text: string, max: number): string {
  return userText(text.replace(/\s+/g, ' ').trim(), max);
}

/** User text for plain_text fields (headers, buttons): neutralised, single line, at most `max`. */
export function plain(text: string, max: number): string {
  const out = truncate(neutralizeMentions(text).replace(/\s+/g, ' ').trim(), max);
  return out.length > 0 ? out : '-';
}

/** A code block holding user text (errors, outputs); backtick fences inside are broken up. */
export function codeBlock(text: string, max: number): string {
  const body = cutEscaped(escapeMrkdwn(neutralizeMentions(text)).replace(/```/g, '`\u200B``'), Math.max(1, max - 8), true);
  return '```\n' + body + '\n```';
}

function mrkdwnSection(text: string, blockId?: string): SlackBlock {
  const block: SlackBlock = { type: 'section', text: { type: 'mrkdwn', text: text.length > 0 ? truncate(text, LIMITS.sectionText) : ' ' } };
  if (blockId) block.block_id = blockId;
  return block;
}

function context(...texts: string[]): SlackBlock {
  const elements = texts
    .filter((t) => t.length > 0)
    .slice(0, LIMITS.contextElements)
    .map((t) => ({ type: 'mrkdwn' as const, text: truncate(t, LIMITS.contextText) }));
  return { type: 'context', elements: elements.length > 0 ? elements : [{ type: 'mrkdwn', text: ' ' }] };
}

/**
 * Pack lines into as few sections as possible (each under the section text limit), using at most
 * `maxBlocks` blocks; lines that do not fit are summarised as "…and N more".
 */
function packLines(lines: string[], maxBlocks: number, more: (n: number) => string): SlackBlock[] {
  const budget = LIMITS.sectionText - 100;
  const blocks: string[] = [];
  let current = '';
  let used = 0;
  for (const line of lines) {
    const piece = truncate(line, budget);
    if (current.length > 0 && current.length + 1 + piece.length > budget) {
      if (blocks.length + 1 >= maxBlocks) break;
      blocks.push(current);
      current = '';
    }
    current = current.length > 0 ? `${current}\n${piece}` : piece;
    used++;
  }
  if (used < lines.length) current += `\n${more(lines.length - used)}`;
  if (current.length > 0) blocks.push(current);
  return blocks.map((text) => mrkdwnSection(text));
}

function isoShort(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function safeUrl(url: string | undefined): string | undefined {
  if (!url || url.length > 1000) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    const href = parsed.toString();
    return /[|<>\s]/.test(href) ? undefined : href;
  } catch {
    return undefined;
  }
}

/** Execution ids are UUIDs; anything else is not ours, so it gets no button. */
function runButton(kind: 'cancel' | 'retry', executionId: string): ButtonElement | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(executionId)) return null;
  return kind === 'cancel'
    ? {
        type: 'button',
        action_id: ACTION_RUN_CANCEL,
        text: { type: 'plain_text', text: 'Cancel' },
        style: 'danger',
        value: executionId,
        confirm: {
          title: { type: 'plain_text', text: 'Cancel this run?' },
          text: { type: 'plain_text', text: 'Steps already done stay done; the running step is aborted.' },
          confirm: { type: 'plain_text', text: 'Cancel run' },
          deny: { type: 'plain_text', text: 'Keep running' },
        },
      }
    : { type: 'button', action_id: ACTION_RUN_RETRY, text: { type: 'plain_text', text: 'Retry' }, style: 'primary', value: executionId };
}

// ---------------------------------------------------------------------------------------------
// Runs

function incidentLabel(incident: RunView['incident']): string {
  const number = incident.number !== undefined ? `#${incident.number} ` : '';
  return `Incident ${number}${userLabel(incident.title, 200)}`;
}

function triggerLabel(trigger: RunView['trigger']): string {
  const type = trigger.type.replace(/_/g, ' ');
  return trigger.by ? `Trigger: ${type} by ${userLabel(trigger.by, 100)}` : `Trigger: ${type}`;
}

function stepLine(step: RunStepView): string {
  const parts = [`${STEP_EMOJI[step.state] ?? ':grey_question:'} *${userLabel(step.label, 150)}*`];
  if (step.durationMs !== undefined) parts.push(formatDuration(step.durationMs));
  const url = safeUrl(step.url);
  if (step.summary) parts.push(url ? `<${url}|${userLabel(step.summary, 200)}>` : userLabel(step.summary, 200));
  else if (url) parts.push(`<${url}|link>`);
  if (step.state === 'failed' && step.error) parts.push(`_${userLabel(step.error, 300)}_`);
  return parts.join(' · ');
}

/**
 * The live message of a run: header with the status, the incident and trigger, one line per step
 * with its state and duration, the failed step's error, and Cancel (while running) / Retry (when
 * failed or cancelled) buttons carrying the execution id.
 */
export function renderRun(view: RunView): SlackMessage {
  const statusWord = view.status.charAt(0) + view.status.slice(1).toLowerCase();
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: plain(`${statusWord}: ${view.workflowName}`, LIMITS.headerText), emoji: true } },
  ];
  const total = durationBetween(view.startedAt, view.finishedAt);
  blocks.push(
    context(
      `${RUN_STATUS_EMOJI[view.status] ?? ''} *${statusWord}*${total !== undefined ? ` in ${formatDuration(total)}` : ''}`,
      incidentLabel(view.incident),
      triggerLabel(view.trigger),
      `v${view.workflowVersion}`,
    ),
  );

  const failed = view.steps.find((s) => s.state === 'failed');
  const errorText = failed?.error ?? view.error;
  // header + context + error heading/code + actions leave the rest for steps.
  const reserved = 2 + (errorText ? 1 : 0) + 1;
  const lines = view.steps.map(stepLine);
  if (lines.length > 0) blocks.push(...packLines(lines, LIMITS.blocksPerMessage - reserved, (n) => `…and ${n} more steps`));
  else blocks.push(mrkdwnSection('_No steps yet._'));

  if (errorText) {
    const heading = failed ? `*Failed at ${userLabel(failed.label, 150)}*` : view.status === 'CANCELLED' ? '*Cancelled*' : '*Error*';
    blocks.push(mrkdwnSection(`${heading}\n${codeBlock(errorText, LIMITS.sectionText - heading.length - 10)}`, 'run_error'));
  } else if (view.status === 'CANCELLED' && view.cancelReason) {
    blocks.push(context(`Cancelled (${view.cancelReason})`));
  }

  const buttons = view.actions.map((a) => runButton(a, view.executionId)).filter((b): b is ButtonElement => b !== null);
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: 'run_actions', elements: buttons });

  const text = plain(`${statusWord}: ${view.workflowName} (${incidentLabelPlain(view.incident)})`, 300);
  return { text, blocks: blocks.slice(0, LIMITS.blocksPerMessage) };
}

function incidentLabelPlain(incident: RunView['incident']): string {
  return `incident ${incident.number !== undefined ? `#${incident.number} ` : ''}${incident.title}`;
}

/** The team-channel alert for a failed run: incident, workflow, failed step, error, and Retry. */
export function renderFailureAlert(alert: FailureAlert): SlackMessage {
  const run = alert.run;
  const step = alert.failedStep ?? run.steps.find((s) => s.state === 'failed')?.label;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: plain(`Workflow failed: ${run.workflowName}`, LIMITS.headerText), emoji: true } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Incident*\n${incidentLabel(run.incident)}` },
        { type: 'mrkdwn', text: `*Workflow*\n${userLabel(run.workflowName, 300)} (v${run.workflowVersion})` },
        { type: 'mrkdwn', text: `*Failed step*\n${step ? userLabel(step, 300) : 'unknown'}` },
        { type: 'mrkdwn', text: `*${triggerLabel(run.trigger).replace(': ', '*\n')}` },
      ],
    },
    mrkdwnSection(`*Error*\n${codeBlock(alert.error || run.error || 'unknown error', 2800)}`, 'alert_error'),
  ];
  const retry = runButton('retry', run.executionId);
  if (retry) blocks.push({ type: 'actions', block_id: 'alert_actions', elements: [retry] });
  return { text: plain(`Workflow ${run.workflowName} failed${step ? ` at ${step}` : ''} (${incidentLabelPlain(run.incident)})`, 300), blocks };
}

/** A direct message to the assignee or author about a failed run (same content, addressed to them). */
export function renderFailureDm(alert: FailureAlert, role: 'assignee' | 'author'): SlackMessage {
  const base = renderFailureAlert(alert);
  const why = role === 'assignee' ? 'You are assigned to this incident.' : 'You are the author of this workflow.';
  return { text: base.text, blocks: [...base.blocks.slice(0, LIMITS.blocksPerMessage - 1), context(why)] };
}

/** A `chat.post` action's message: user text, neutralised and cut to one section. */
export function renderPlainMessage(text: string): SlackMessage {
  const body = userText(text, LIMITS.sectionText);
  return { text: userText(text, LIMITS.fallbackText), blocks: [mrkdwnSection(body.length > 0 ? body : ' ')] };
}

// ---------------------------------------------------------------------------------------------
// Replies to commands

function workflowLine(w: WorkflowSummary): string {
  const state = w.enabled ? ':large_green_circle: enabled' : ':white_circle: disabled';
  const last = w.lastRun ? `last run ${w.lastRun.status.toLowerCase()} ${isoShort(w.lastRun.at)}` : 'never run';
  return `*${userLabel(w.name, 150)}* · ${userLabel(w.scope, 80)} · ${w.triggerType.replace(/_/g, ' ')} · ${state} · ${last}`;
}

function runLine(r: ExecutionSummary): string {
  const took = durationBetween(r.startedAt, r.completedAt);
  return `${RUN_STATUS_EMOJI[r.status] ?? ''} *${userLabel(r.workflowName, 150)}* · ${r.status.toLowerCase()} · ${isoShort(r.createdAt)}${took !== undefined ? ` · ${formatDuration(took)}` : ''}${r.error ? ` · _${userLabel(r.error, 200)}_` : ''}`;
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? 'null';
  } catch {
    return String(value);
  }
}

/** Render a neutral {@link Reply} as a slash-command response or a message. */
export function renderReply(reply: Reply): SlackMessage {
  const response_type = reply.visibility === 'channel' ? 'in_channel' : 'ephemeral';
  switch (reply.kind) {
    case 'text': {
      const text = `${TONE_EMOJI[reply.tone]} ${userText(reply.text, LIMITS.sectionText - 30)}`;
      return { response_type, text: truncate(text, LIMITS.fallbackText), blocks: [mrkdwnSection(text)] };
    }
    case 'help': {
      const lines = reply.entries.map((e) => `\`/${e.command} ${userLabel(e.usage, 200)}\` ${userLabel(e.description, 300)}${e.adminOnly ? ' _(admins)_' : ''}`);
      return {
        response_type,
        text: `/${reply.command} help`,
        blocks: [{ type: 'header', text: { type: 'plain_text', text: `/${reply.command} commands` } }, ...packLines(lines, LIMITS.blocksPerMessage - 1, (n) => `…and ${n} more`)],
      };
    }
    case 'workflow_list': {
      const lines = reply.workflows.map(workflowLine);
      return {
        response_type,
        text: `${reply.workflows.length} workflows`,
        blocks: [{ type: 'header', text: { type: 'plain_text', text: `Workflows (${reply.workflows.length})` } }, ...packLines(lines, LIMITS.blocksPerMessage - 1, (n) => `…and ${n} more workflows`)],
      };
    }
    case 'workflow_detail': {
      const w = reply.workflow;
      return {
        response_type,
        text: plain(`Workflow ${w.name}`, 300),
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: plain(w.name, LIMITS.headerText) } },
          mrkdwnSection(`${w.description ? `${userText(w.description, 1000)}\n` : ''}${workflowLine(w)} · v${w.version}`),
          mrkdwnSection(`*Definition*\n${codeBlock(json(w.definition), 2800)}`),
        ],
      };
    }
    case 'run_history': {
      const lines = reply.runs.map(runLine);
      return {
        response_type,
        text: plain(`Recent runs in incident #${reply.incident.number}`, 300),
        blocks: [context(`Recent runs in incident #${reply.incident.number} ${userLabel(reply.incident.title, 200)}`), ...packLines(lines, LIMITS.blocksPerMessage - 1, (n) => `…and ${n} more runs`)],
      };
    }
    case 'dry_run': {
      const head = reply.matches
        ? `:white_check_mark: \`${userLabel(reply.workflowName, 150)}\` would run.`
        : `:no_entry_sign: \`${userLabel(reply.workflowName, 150)}\` would not run.`;
      const reasons = reply.reasons.map((r) => `• ${userLabel(r, 300)}`);
      const actions = reply.actions.map((a) => `*${userLabel(a.nodeId, 100)}* (${userLabel(a.action, 60)})\n${codeBlock(json(a.input), 600)}`);
      return {
        response_type,
        text: plain(`Dry run of ${reply.workflowName}`, 300),
        blocks: [mrkdwnSection(head), ...packLines([...reasons, ...actions], LIMITS.blocksPerMessage - 1, (n) => `…and ${n} more`)],
      };
    }
    case 'incident_card': {
      const i = reply.incident;
      return {
        response_type,
        text: plain(`${reply.headline}: ${i.title}`, 300),
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: plain(`Incident #${i.number}: ${i.title}`, LIMITS.headerText) } },
          {
            type: 'section',
            fields: [
              { type: 'mrkdwn', text: `*Status*\n${userLabel(i.status, 100)}` },
              { type: 'mrkdwn', text: `*Priority*\n${userLabel(i.priority, 20)}` },
              { type: 'mrkdwn', text: `*Team*\n${userLabel(i.teamName, 200)}` },
              { type: 'mrkdwn', text: `*Assignee*\n${i.assigneeName ? userLabel(i.assigneeName, 200) : 'nobody'}` },
              { type: 'mrkdwn', text: `*Escalation level*\n${i.escalationLevel}` },
            ],
          },
          context(userLabel(reply.headline, 500)),
        ],
      };
    }
  }
}
