/**
 * The one command grammar both chat platforms speak:
 *
 *   /workflow run <name> [--dry-run]      /incident declare <title> [P1-P5] [--new-channel]
 *   /workflow list                        /incident status <state>
 *   /workflow show <name>                 /incident assign <@user | me | nobody>
 *   /workflow history                     /incident escalate
 *   /workflow enable <name>               /incident resolve
 *   /workflow disable <name>              /incident help
 *   /workflow help
 *
 * Adapters hand the command word and the rest of the line to {@link parseCommand} and get a typed
 * {@link Intent} or a {@link ParseError} whose message can be shown to the person as is.
 * Mentions must arrive in the neutral `<@platformUserId>` / `<@platformUserId|label>` form: Slack
 * sends that when the command is declared with `should_escape: true`; the Teams adapter rewrites
 * its `<at>Name</at>` mentions (resolved through the activity's mention entities) to it.
 */
import { closestMatches } from './text.js';

/** Commands the bot owns. */
export type CommandName = 'workflow' | 'incident';
export const COMMAND_NAMES: readonly CommandName[] = ['workflow', 'incident'];

/** Incident priorities accepted by `/incident declare`. */
export type Priority = 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
export const PRIORITIES: readonly Priority[] = ['P1', 'P2', 'P3', 'P4', 'P5'];

/** Who `/incident assign` points at. */
export type AssigneeRef =
  | { kind: 'mention'; platformUserId: string; label?: string }
  | { kind: 'me' }
  | { kind: 'nobody' };

/** What a `/workflow` command asks for. */
export type WorkflowIntent =
  | { kind: 'workflow.run'; name: string; dryRun: boolean }
  | { kind: 'workflow.list' }
  | { kind: 'workflow.show'; name: string }
  | { kind: 'workflow.history' }
  | { kind: 'workflow.enable'; name: string }
  | { kind: 'workflow.disable'; name: string }
  | { kind: 'workflow.help' };

/** What an `/incident` command asks for. */
export type IncidentIntent =
  | { kind: 'incident.declare'; title: string; priority?: Priority; /** Create a fresh channel for the incident instead of binding this one. */ newChannel?: boolean }
  | { kind: 'incident.status'; status: string }
  | { kind: 'incident.assign'; assignee: AssigneeRef }
  | { kind: 'incident.escalate' }
  | { kind: 'incident.resolve' }
  | { kind: 'incident.help' };

/** A button on a run message (Cancel / Retry), carrying the execution id from the button value. */
export type RunButtonIntent = { kind: 'run.cancel'; executionId: string } | { kind: 'run.retry'; executionId: string };

/** Every typed request a person can make in chat. */
export type Intent = WorkflowIntent | IncidentIntent | RunButtonIntent;
export type IntentKind = Intent['kind'];

/** A command that could not be understood; `message` is written for the person who typed it. */
export interface ParseError {
  ok: false;
  message: string;
  /** Close alternatives, when the person probably made a typo. */
  suggestions: string[];
}

export type ParseResult = { ok: true; intent: Intent } | ParseError;

/** One line of `/workflow help` or `/incident help`. */
export interface CommandHelp {
  command: CommandName;
  /** Subcommand and arguments, e.g. `run <name> [--dry-run]`. */
  usage: string;
  description: string;
  adminOnly?: boolean;
}

/** Help for every subcommand, in display order (both platforms render this list). */
export const COMMAND_HELP: readonly CommandHelp[] = [
  { command: 'workflow', usage: 'run <name> [--dry-run]', description: 'Run a workflow for this incident (--dry-run shows what it would do).' },
  { command: 'workflow', usage: 'list', description: 'List workflows with scope, trigger, state and last run.', adminOnly: true },
  { command: 'workflow', usage: 'show <name>', description: 'Show one workflow.' },
  { command: 'workflow', usage: 'history', description: 'Recent runs in this incident.' },
  { command: 'workflow', usage: 'enable <name>', description: 'Enable a workflow.', adminOnly: true },
  { command: 'workflow', usage: 'disable <name>', description: 'Disable a workflow.', adminOnly: true },
  { command: 'workflow', usage: 'help', description: 'This help.' },
  { command: 'incident', usage: 'declare <title> [P1-P5] [--new-channel]', description: 'Declare an incident and bind this channel (or a new one) to it.' },
  { command: 'incident', usage: 'status <state>', description: 'Change the incident state (e.g. investigating, monitoring).' },
  { command: 'incident', usage: 'assign <@user|me|nobody>', description: 'Assign the incident.' },
  { command: 'incident', usage: 'escalate', description: 'Escalate the incident one level.' },
  { command: 'incident', usage: 'resolve', description: 'Resolve the incident.' },
  { command: 'incident', usage: 'help', description: 'This help.' },
];

const SUBCOMMANDS: Record<CommandName, readonly string[]> = {
  workflow: ['run', 'list', 'show', 'history', 'enable', 'disable', 'help'],
  incident: ['declare', 'status', 'assign', 'escalate', 'resolve', 'help'],
};

/** Longest accepted free-text argument (names, titles); longer input is refused, not silently cut. */
export const MAX_ARGUMENT_LENGTH = 200;

/**
 * Parse one command. `command` may carry its leading slash (`/workflow`) or not; `text` is everything
 * after it. Empty text means help.
 */
export function parseCommand(command: string, text: string): ParseResult {
  const name = command.trim().replace(/^\//, '').toLowerCase();
  if (name !== 'workflow' && name !== 'incident') {
    const close = closestMatches(name, COMMAND_NAMES);
    return fail(`Unknown command \`/${name}\`.${didYouMean(close.map((c) => `/${c}`))} Try \`/workflow help\` or \`/incident help\`.`, close);
  }
  const tokens = tokenize(text);
  if (!tokens.ok) return tokens;
  const [sub, ...args] = tokens.tokens;
  if (sub === undefined) return ok(name === 'workflow' ? { kind: 'workflow.help' } : { kind: 'incident.help' });
  return name === 'workflow' ? parseWorkflow(sub.toLowerCase(), args) : parseIncident(sub.toLowerCase(), args);
}

/**
 * Parse a whole message such as `workflow run deploy-rollback` (Teams, app mentions): the first
 * word is the command, with or without a slash.
 */
export function parseMessage(text: string): ParseResult {
  const trimmed = text.trim();
  const match = /^\/?(\S+)\s*([\s\S]*)$/.exec(trimmed);
  if (!match) return ok({ kind: 'workflow.help' });
  return parseCommand(match[1]!, match[2]!);
}

/** Render a command's usage line, e.g. `/workflow run <name> [--dry-run]`. */
export function usageOf(command: CommandName, sub: string): string {
  const entry = COMMAND_HELP.find((h) => h.command === command && h.usage.split(' ')[0] === sub);
  return `/${command} ${entry?.usage ?? sub}`;
}

function parseWorkflow(sub: string, args: string[]): ParseResult {
  switch (sub) {
    case 'run': {
      const dryRun = args.some((a) => a === '--dry-run' || a === '--dryrun');
      const rest = args.filter((a) => a !== '--dry-run' && a !== '--dryrun');
      const unknownFlag = rest.find((a) => a.startsWith('--'));
      if (unknownFlag) return fail(`Unknown option \`${unknownFlag}\`. Usage: \`${usageOf('workflow', 'run')}\``, ['--dry-run']);
      return withName(rest, 'run', (name) => ({ kind: 'workflow.run', name, dryRun }));
    }
    case 'show':
      return withName(args, 'show', (name) => ({ kind: 'workflow.show', name }));
    case 'enable':
      return withName(args, 'enable', (name) => ({ kind: 'workflow.enable', name }));
    case 'disable':
      return withName(args, 'disable', (name) => ({ kind: 'workflow.disable', name }));
    case 'list':
    case 'history':
    case 'help':
      if (args.length > 0) return fail(`\`/workflow ${sub}\` takes no arguments. Usage: \`${usageOf('workflow', sub)}\``, []);
      return ok({ kind: `workflow.${sub}` });
    default:
      return unknownSub('workflow', sub);
  }
}

function parseIncident(sub: string, args: string[]): ParseResult {
  switch (sub) {
    case 'declare': {
      let priority: Priority | undefined;
      const newChannel = args.includes('--new-channel');
      const words = args.filter((a) => a !== '--new-channel');
      const unknownFlag = words.find((a) => a.startsWith('--'));
      if (unknownFlag) return fail(`Unknown option \`${unknownFlag}\`. Usage: \`${usageOf('incident', 'declare')}\``, ['--new-channel']);
      const last = words[words.length - 1];
      if (last !== undefined && words.length > 1 && /^p\d+$/i.test(last)) {
        const upper = last.toUpperCase();
        if (!PRIORITIES.includes(upper as Priority)) return fail(`Priority must be one of ${PRIORITIES.join(', ')} (got \`${last}\`).`, [...PRIORITIES]);
        priority = upper as Priority;
        words.pop();
      }
      const title = words.join(' ').trim();
      if (!title) return fail(`Give the incident a title. Usage: \`${usageOf('incident', 'declare')}\``, []);
      if (title.length > MAX_ARGUMENT_LENGTH) return fail(`The title is too long (${title.length} characters, at most ${MAX_ARGUMENT_LENGTH}).`, []);
      return ok({ kind: 'incident.declare', title, ...(priority ? { priority } : {}), ...(newChannel ? { newChannel } : {}) });
    }
    case 'status': {
      if (args.length !== 1) return fail(`Say which state. Usage: \`${usageOf('incident', 'status')}\``, []);
      const status = args[0]!.toLowerCase();
      if (!/^[a-z][a-z_-]{0,39}$/.test(status)) return fail(`\`${args[0]}\` is not a valid state name.`, []);
      return ok({ kind: 'incident.status', status });
    }
    case 'assign': {
      if (args.length !== 1) return fail(`Say who. Usage: \`${usageOf('incident', 'assign')}\``, []);
      const target = args[0]!;
      const mention = /^<@([A-Za-z0-9:_.-]+)(?:\|([^>]*))?>$/.exec(target);
      if (mention) return ok({ kind: 'incident.assign', assignee: { kind: 'mention', platformUserId: mention[1]!, ...(mention[2] ? { label: mention[2] } : {}) } });
      const lower = target.toLowerCase();
      if (lower === 'me' || lower === '@me') return ok({ kind: 'incident.assign', assignee: { kind: 'me' } });
      if (lower === 'nobody' || lower === 'none') return ok({ kind: 'incident.assign', assignee: { kind: 'nobody' } });
      return fail(`Mention the person to assign (type @ and pick them from the list), or use \`me\` or \`nobody\`.`, []);
    }
    case 'escalate':
    case 'resolve':
    case 'help':
      if (args.length > 0) return fail(`\`/incident ${sub}\` takes no arguments. Usage: \`${usageOf('incident', sub)}\``, []);
      return ok({ kind: `incident.${sub}` });
    default:
      return unknownSub('incident', sub);
  }
}

function withName(args: string[], sub: string, build: (name: string) => Intent): ParseResult {
  const name = args.join(' ').trim();
  if (!name) return fail(`Which workflow? Usage: \`${usageOf('workflow', sub)}\``, []);
  if (name.length > MAX_ARGUMENT_LENGTH) return fail(`That workflow name is too long (${name.length} characters, at most ${MAX_ARGUMENT_LENGTH}).`, []);
  return ok(build(name));
}

function unknownSub(command: CommandName, sub: string): ParseError {
  const close = closestMatches(sub, SUBCOMMANDS[command]);
  const shown = sub.length > 40 ? `${sub.slice(0, 40)}…` : sub;
  return fail(
    `Unknown subcommand \`${shown}\` for \`/${command}\`.${didYouMean(close.map((c) => `/${command} ${c}`))} Try \`/${command} help\`.`,
    close,
  );
}

/** ` Did you mean `a` or `b`?` or '' when there is nothing close. */
export function didYouMean(candidates: readonly string[]): string {
  if (candidates.length === 0) return '';
  const quoted = candidates.map((c) => `\`${c}\``);
  const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
  return ` Did you mean ${list}?`;
}

/** Split on whitespace, honouring "double", 'single' and “smart” quotes and `<@...>` mentions. */
function tokenize(text: string): { ok: true; tokens: string[] } | ParseError {
  const tokens: string[] = [];
  const input = text.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'");
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const end = input.indexOf(ch, i + 1);
      if (end === -1) return fail(`A quote is not closed: ${ch}…`, []);
      tokens.push(input.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    // A mention `<@id|Label With Spaces>` is one token even without quotes.
    if (input.startsWith('<@', i)) {
      const end = input.indexOf('>', i);
      if (end !== -1) {
        tokens.push(input.slice(i, end + 1));
        i = end + 1;
        continue;
      }
    }
    let j = i;
    while (j < input.length && !/\s/.test(input[j]!)) j++;
    tokens.push(input.slice(i, j));
    i = j;
  }
  return { ok: true, tokens };
}

function ok(intent: Intent): ParseResult {
  return { ok: true, intent };
}

function fail(message: string, suggestions: string[]): ParseError {
  return { ok: false, message, suggestions };
}
