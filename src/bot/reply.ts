/**
 * The platform-neutral answer to a chat command or button: {@link handleIntent} returns one,
 * `src/bot/slack` renders it as Block Kit and `src/bot/teams` as an Adaptive Card.
 */
import type { ExecutionSummary, IncidentSummary, WorkflowSummary } from '../app/services.js';
import type { CommandHelp, CommandName } from './commands.js';

/** Who sees the answer: only the person who asked, or the whole channel. */
export type Visibility = 'ephemeral' | 'channel';

/** How a text answer should look (an emoji or colour, at the renderer's discretion). */
export type Tone = 'info' | 'success' | 'warning' | 'error';

/** A plain message. */
export interface TextReply {
  kind: 'text';
  visibility: Visibility;
  tone: Tone;
  /** Plain text with `inline code` backticks and *bold* asterisks only; user-supplied parts are not yet neutralised. */
  text: string;
  /** Set when the answer is about one run (e.g. "started"). */
  executionId?: string;
}

/** `/workflow list`: the table of workflows an admin may manage. */
export interface WorkflowListReply {
  kind: 'workflow_list';
  visibility: 'ephemeral';
  workflows: WorkflowSummary[];
}

/** `/workflow show <name>`. */
export interface WorkflowDetailReply {
  kind: 'workflow_detail';
  visibility: 'ephemeral';
  workflow: WorkflowSummary & { definition: unknown };
}

/** `/workflow history`: recent runs in this incident, newest first. */
export interface RunHistoryReply {
  kind: 'run_history';
  visibility: 'ephemeral';
  incident: IncidentSummary;
  runs: ExecutionSummary[];
}

/** `/workflow run <name> --dry-run`. */
export interface DryRunReply {
  kind: 'dry_run';
  visibility: 'ephemeral';
  workflowName: string;
  matches: boolean;
  reasons: string[];
  actions: Array<{ nodeId: string; action: string; input: unknown }>;
}

/** An incident was declared or changed: shown to the whole channel. */
export interface IncidentCardReply {
  kind: 'incident_card';
  visibility: 'channel';
  /** One line saying what happened, e.g. "Ana set the status to investigating". */
  headline: string;
  incident: IncidentSummary;
}

/** `/workflow help`, `/incident help`. */
export interface HelpReply {
  kind: 'help';
  visibility: 'ephemeral';
  command: CommandName;
  entries: CommandHelp[];
}

/** Everything a command or button can answer. */
export type Reply = TextReply | WorkflowListReply | WorkflowDetailReply | RunHistoryReply | DryRunReply | IncidentCardReply | HelpReply;

/** An ephemeral text reply. */
export function ephemeral(text: string, tone: Tone = 'info', executionId?: string): TextReply {
  return executionId ? { kind: 'text', visibility: 'ephemeral', tone, text, executionId } : { kind: 'text', visibility: 'ephemeral', tone, text };
}
