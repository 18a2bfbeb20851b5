/**
 * The workflow document: what an admin keeps in git as YAML or JSON. `WorkflowDocumentSchema`
 * checks its shape (zod); `validateWorkflowDefinition` adds the graph and template checks;
 * `parseWorkflowDocument` does both from text and attaches a line to every error.
 *
 * Semantics worth knowing when writing one:
 * - `conditions` are checked against the incident (`priority`, `metadata.service`), all must hold,
 *   strict equality; a missing field never matches.
 * - A `condition` node compares `field` (a path into the template context: `incident.priority`,
 *   `trigger.newState`, `steps.<id>.output.<key>`) with `value` and follows its `true` or `false` edge.
 * - A node runs when any incoming edge is taken; a node whose incoming edges all come from
 *   branches not taken is skipped.
 * - `{{steps.<id>.output.<key>}}` may only name an action node that runs before this node on every
 *   path; `{{secrets.NAME}}` only in a webhook's url, headers and body.
 */
import { z } from 'zod';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { ACTION_INPUT_SCHEMAS, ACTION_TYPES, SECRET_FIELDS, SECRET_NAME_PATTERN, type ActionType } from './action-inputs.js';
import { alwaysBefore, findCycle, reachableFrom, topologicalOrder } from './graph.js';
import { RetryPolicySchema } from './retry.js';
import { findReferences, forEachString, wholeReference } from './templates.js';
import { WORKFLOW_TIMEOUTS } from './timeouts.js';

const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a slug: lowercase letters, digits, "-" or "_"');

const nodeId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'must start with a letter and contain only letters, digits, "-" or "_"');

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const TriggerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('incident_created') }),
  z.strictObject({
    type: z.literal('state_changed'),
    from: z.string().min(1).optional().describe('Previous state to match; absent matches any.'),
    to: z.string().min(1).optional().describe('New state to match; absent matches any.'),
  }),
  z.strictObject({ type: z.literal('escalation') }),
  z.strictObject({ type: z.literal('manual') }),
  z.strictObject({
    type: z.literal('age'),
    minutes: z.number().int().min(1).max(60 * 24 * 30).describe('Fires once the incident is older than this many minutes (once per workflow and incident).'),
  }),
]);

export const ConditionSchema = z.strictObject({
  field: z.string().min(1).describe('Dotted path into the incident, e.g. priority or metadata.service.'),
  value: scalar.describe('Holds when the field strictly equals this value; a missing field never matches.'),
});

export const SettingsSchema = z.strictObject({
  timeout: z.enum(['1min', '5min', '15min']).default('5min').describe('Time budget of a run, from its start; delays count.'),
  retry: RetryPolicySchema.optional().describe('Retry policy for every action (default: 3 attempts, 1s doubling backoff with jitter, 30s cap).'),
});

const nodeBase = { id: nodeId, name: z.string().min(1).max(100).optional() };

export const TriggerNodeSchema = z.strictObject({ ...nodeBase, type: z.literal('trigger') });

export const ActionNodeSchema = z.strictObject({
  ...nodeBase,
  type: z.literal('action'),
  action: z.enum(ACTION_TYPES),
  input: z.record(z.string(), z.unknown()).describe('Action input; strings may contain {{incident.*}}, {{trigger.*}}, {{steps.<id>.output.*}} templates.'),
  retry: RetryPolicySchema.optional().describe("Overrides the workflow's retry policy for this action."),
});

export const ConditionNodeSchema = z.strictObject({
  ...nodeBase,
  type: z.literal('condition'),
  field: z.string().min(1).describe('Path into the template context, e.g. incident.priority or steps.ticket.output.key.'),
  value: scalar.describe('The true branch is taken when the field strictly equals this value.'),
});

export const DelayNodeSchema = z.strictObject({
  ...nodeBase,
  type: z.literal('delay'),
  seconds: z.number().int().min(0).describe('How long to wait; the run is parked, not holding a worker.'),
});

export const NodeSchema = z.discriminatedUnion('type', [TriggerNodeSchema, ActionNodeSchema, ConditionNodeSchema, DelayNodeSchema]);

export const EdgeSchema = z.strictObject({
  from: z.string().min(1),
  to: z.string().min(1),
  branch: z.boolean().optional().describe('Only on edges leaving a condition node: which outcome this edge follows.'),
});

/** The shape of a workflow document. */
export const WorkflowDocumentSchema = z.strictObject({
  /** Optional pointer to the published JSON Schema, ignored by the engine. */
  $schema: z.string().optional(),
  name: slug,
  description: z.string().max(1000).default(''),
  team: z.string().min(1).optional().describe('Team name; absent means the workflow is global.'),
  enabled: z.boolean().default(true),
  trigger: TriggerSchema,
  conditions: z.array(ConditionSchema).default([]).describe('All must hold for the workflow to start.'),
  settings: SettingsSchema.default({ timeout: '5min' }),
  nodes: z.array(NodeSchema).min(1),
  edges: z.array(EdgeSchema).default([]),
});

export type WorkflowDefinition = z.output<typeof WorkflowDocumentSchema>;
export type WorkflowDocumentInput = z.input<typeof WorkflowDocumentSchema>;
export type WorkflowTrigger = z.output<typeof TriggerSchema>;
export type WorkflowNode = z.output<typeof NodeSchema>;
export type ActionNode = z.output<typeof ActionNodeSchema>;
export type ConditionNode = z.output<typeof ConditionNodeSchema>;
export type DelayNode = z.output<typeof DelayNodeSchema>;
export type WorkflowEdge = z.output<typeof EdgeSchema>;

/** One problem in a workflow document. */
export interface DefinitionIssue {
  /** Where, e.g. `nodes[2].input.url`; empty for the document itself. */
  path: string;
  message: string;
  /** 1-based, when parsed from text. */
  line?: number;
  column?: number;
  /** The file it came from, when `parseWorkflowDocument` was given a `fileName`. */
  file?: string;
}

export type DefinitionResult = { ok: true; definition: WorkflowDefinition } | { ok: false; errors: DefinitionIssue[] };

/** Thrown by `assertWorkflowDefinition`; carries every issue. */
export class InvalidWorkflowError extends Error {
  constructor(readonly issues: DefinitionIssue[], fileName?: string) {
    super(formatDefinitionIssues(issues, fileName));
    this.name = 'InvalidWorkflowError';
  }
}

/** `['nodes', 2, 'input', 'url']` -> `nodes[2].input.url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** One line per issue: `file.yml:12: nodes[2].input.url: must be an http(s) URL`. */
export function formatDefinitionIssues(issues: readonly DefinitionIssue[], fileName?: string): string {
  return issues
    .map((i) => {
      const where = [fileName ?? i.file, i.line === undefined ? undefined : String(i.line)].filter(Boolean).join(':');
      return `${where ? `${where}: ` : ''}${i.path || '(document)'}: ${i.message}`;
    })
    .join('\n');
}

function zodIssues(error: z.ZodError): Array<{ path: PropertyKey[]; message: string }> {
  return error.issues.map((issue) => {
    const path = [...issue.path];
    if (issue.code === 'unrecognized_keys' && issue.keys.length === 1) path.push(issue.keys[0] as string);
    return { path, message: issue.message };
  });
}

const INCIDENT_FIELDS = new Set(['id', 'number', 'title', 'priority', 'status', 'teamId', 'assigneeId', 'escalationLevel', 'metadata', 'createdAt']);
const TRIGGER_FIELDS = new Set(['type', 'previousState', 'newState', 'workflowName', 'occurredAt', 'actor', 'executionChain']);

/** Checks a template path; returns the problem or `undefined`. */
function checkReference(
  ref: string,
  where: { nodeId: string; secretsAllowed: boolean },
  nodesById: Map<string, WorkflowNode>,
  before: Set<string> | undefined,
): string | undefined {
  const [root, second, ...rest] = ref.split('.');
  switch (root) {
    case 'incident':
      if (second === undefined) return `"{{${ref}}}" must name an incident field`;
      if (!INCIDENT_FIELDS.has(second)) return `unknown template reference "{{${ref}}}": incidents have no field "${second}"`;
      if (second !== 'metadata' && rest.length > 0) return `unknown template reference "{{${ref}}}"`;
      return undefined;
    case 'trigger':
      if (second === undefined || !TRIGGER_FIELDS.has(second)) return `unknown template reference "{{${ref}}}": trigger fields are ${[...TRIGGER_FIELDS].join(', ')}`;
      return undefined;
    case 'execution':
      return second === 'id' && rest.length === 0 ? undefined : `unknown template reference "{{${ref}}}": only execution.id exists`;
    case 'workflow':
      return (second === 'id' || second === 'name') && rest.length === 0 ? undefined : `unknown template reference "{{${ref}}}": use workflow.id or workflow.name`;
    case 'secrets':
      if (second === undefined || rest.length > 0 || !SECRET_NAME_PATTERN.test(second)) return `"{{${ref}}}" is not a valid secret reference (use {{secrets.NAME}})`;
      if (!where.secretsAllowed) return `secrets may only be referenced in a webhook's url, headers or body, never in "{{${ref}}}" here`;
      return undefined;
    case 'steps': {
      if (second === undefined) return `"{{${ref}}}" must name a step: {{steps.<id>.output.<key>}}`;
      const target = nodesById.get(second);
      if (!target) return `unknown template reference "{{${ref}}}": there is no node "${second}"`;
      if (target.type !== 'action') return `"{{${ref}}}" refers to node "${second}", which is not an action`;
      if (rest[0] !== 'output') return `"{{${ref}}}" must read a step's output: {{steps.${second}.output.<key>}}`;
      if (!before?.has(second)) return `"{{${ref}}}" refers to step "${second}", which does not always run before node "${where.nodeId}"`;
      return undefined;
    }
    default:
      return `unknown template reference "{{${ref}}}": it must start with incident, trigger, steps, secrets, execution or workflow`;
  }
}

/** Graph, template and action-input checks on a document whose shape is already valid. */
function semanticIssues(def: WorkflowDefinition): Array<{ path: PropertyKey[]; message: string }> {
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  const add = (path: PropertyKey[], message: string) => issues.push({ path, message });

  const indexById = new Map<string, number>();
  def.nodes.forEach((n, i) => {
    if (indexById.has(n.id)) add(['nodes', i, 'id'], `duplicate node id "${n.id}" (also nodes[${indexById.get(n.id)}])`);
    else indexById.set(n.id, i);
  });
  const nodesById = new Map(def.nodes.map((n) => [n.id, n] as const));

  const triggers = def.nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.type === 'trigger');
  if (triggers.length === 0) add(['nodes'], 'exactly one trigger node is required, found none');
  for (const extra of triggers.slice(1)) add(['nodes', extra.i, 'type'], `exactly one trigger node is allowed; "${triggers[0]!.n.id}" is already the trigger`);
  const start = triggers[0]?.n.id;

  const edgeKeys = new Map<string, number>();
  def.edges.forEach((e, i) => {
    const fromNode = nodesById.get(e.from);
    if (!fromNode) add(['edges', i, 'from'], `edge starts at unknown node "${e.from}"`);
    if (!nodesById.has(e.to)) add(['edges', i, 'to'], `edge points at unknown node "${e.to}"`);
    if (nodesById.get(e.to)?.type === 'trigger') add(['edges', i, 'to'], `the trigger node "${e.to}" cannot have incoming edges`);
    if (fromNode && fromNode.type !== 'condition' && e.branch !== undefined) add(['edges', i, 'branch'], `only edges leaving a condition node have a branch; "${e.from}" is a ${fromNode.type} node`);
    if (fromNode?.type === 'condition' && e.branch === undefined) add(['edges', i, 'branch'], `edges leaving condition node "${e.from}" must say branch: true or branch: false`);
    const key = `${e.from}->${e.to}:${String(e.branch)}`;
    if (edgeKeys.has(key)) add(['edges', i], `duplicate edge (same as edges[${edgeKeys.get(key)}])`);
    else edgeKeys.set(key, i);
  });

  def.nodes.forEach((n, i) => {
    if (n.type !== 'condition') return;
    const out = def.edges.filter((e) => e.from === n.id && e.branch !== undefined);
    for (const branch of [true, false]) {
      const count = out.filter((e) => e.branch === branch).length;
      if (count === 0) add(['nodes', i], `condition node "${n.id}" needs an edge with branch: ${branch}`);
      if (count > 1) add(['nodes', i], `condition node "${n.id}" has ${count} edges with branch: ${branch}; exactly one is allowed`);
    }
  });

  const validEdges = def.edges.filter((e) => nodesById.has(e.from) && nodesById.has(e.to));
  const cycle = findCycle(def.nodes, validEdges);
  if (cycle) {
    const closing = def.edges.findIndex((e) => e.from === cycle[cycle.length - 2] && e.to === cycle[cycle.length - 1]);
    add(['edges', closing], `the graph has a cycle: ${cycle.join(' -> ')}`);
  }

  if (start !== undefined) {
    const reachable = reachableFrom(start, validEdges);
    def.nodes.forEach((n, i) => {
      if (!reachable.has(n.id) && n.type !== 'trigger') add(['nodes', i], `node "${n.id}" is not reachable from the trigger node "${start}"`);
    });
  }

  const order = cycle ? null : topologicalOrder(def.nodes, validEdges);
  const before = order && start !== undefined ? alwaysBefore(start, order, validEdges) : new Map<string, Set<string>>();

  // Delays: the longest total delay on any path must fit in the workflow timeout.
  if (order) {
    const timeoutMs = WORKFLOW_TIMEOUTS[def.settings.timeout];
    const acc = new Map<string, number>();
    for (const id of order) {
      const preds = validEdges.filter((e) => e.to === id).map((e) => acc.get(e.from) ?? 0);
      const upstream = preds.length ? Math.max(...preds) : 0;
      const node = nodesById.get(id)!;
      const own = node.type === 'delay' ? node.seconds * 1000 : 0;
      acc.set(id, upstream + own);
      if (node.type === 'delay' && upstream < timeoutMs && upstream + own >= timeoutMs) {
        add(['nodes', indexById.get(id)!, 'seconds'], `delays on the path to "${id}" add up to ${(upstream + own) / 1000}s, which does not fit in the ${def.settings.timeout} workflow timeout`);
      }
    }
  }

  def.nodes.forEach((n, i) => {
    if (n.type === 'condition') {
      const ref = n.field.replace(/^\{\{\s*|\s*\}\}$/g, '');
      if (ref.split('.')[0] === 'secrets') add(['nodes', i, 'field'], 'a condition cannot test a secret');
      else {
        const problem = checkReference(ref, { nodeId: n.id, secretsAllowed: false }, nodesById, before.get(n.id));
        if (problem) add(['nodes', i, 'field'], problem);
      }
    }
    if (n.type !== 'action') return;
    const actionType: ActionType = n.action;
    const secretFields = SECRET_FIELDS[actionType];
    forEachString(n.input, (text, path) => {
      for (const ref of findReferences(text)) {
        const secretsAllowed = typeof path[0] === 'string' && secretFields.includes(path[0]);
        const problem = checkReference(ref, { nodeId: n.id, secretsAllowed }, nodesById, before.get(n.id));
        if (problem) add(['nodes', i, 'input', ...path], problem);
      }
    });
    const parsed = ACTION_INPUT_SCHEMAS[actionType].safeParse(n.input);
    if (!parsed.success) {
      for (const issue of zodIssues(parsed.error)) {
        // A value that is exactly one template reference gets its type at run time.
        const actual = issue.path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), n.input);
        if (typeof actual === 'string' && wholeReference(actual) !== undefined) continue;
        add(['nodes', i, 'input', ...issue.path], `${actionType}: ${issue.message}`);
      }
    }
  });
  return issues;
}

/** Validates an already-parsed document (shape, graph, templates, action inputs). */
export function validateWorkflowDefinition(data: unknown): DefinitionResult {
  const checked = allIssues(data);
  if (!checked.ok) return { ok: false, errors: checked.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
  return { ok: true, definition: checked.definition };
}

type RawIssue = { path: PropertyKey[]; message: string };

/** Stand-ins for nodes whose own fields are invalid: the right id and type, nothing to complain about. */
function placeholderNode(id: string, type: unknown): WorkflowNode {
  switch (type) {
    case 'trigger':
      return { id, type: 'trigger' };
    case 'condition':
      return { id, type: 'condition', field: 'incident.id', value: null };
    case 'delay':
      return { id, type: 'delay', seconds: 0 };
    default:
      return { id, type: 'action', action: 'incident.update', input: { status: 'placeholder' } };
  }
}

/**
 * Shape issues plus, when the shape is wrong only inside single nodes or top-level fields, the
 * graph issues too: invalid nodes are replaced by harmless stand-ins so that one typo does not hide
 * a dangling edge elsewhere. Issues under a stand-in or an already reported path are not repeated.
 */
function allIssues(data: unknown): { ok: true; definition: WorkflowDefinition } | { ok: false; issues: RawIssue[] } {
  const parsed = WorkflowDocumentSchema.safeParse(data);
  if (parsed.success) {
    const issues = semanticIssues(parsed.data);
    return issues.length > 0 ? { ok: false, issues } : { ok: true, definition: parsed.data };
  }
  const shape = zodIssues(parsed.error);
  const raw = data as { nodes?: unknown; edges?: unknown; settings?: unknown };
  const rawEdges = raw?.edges ?? [];
  const edgesOk = z.array(EdgeSchema).safeParse(rawEdges);
  if (typeof data !== 'object' || data === null || !Array.isArray(raw.nodes) || !edgesOk.success) return { ok: false, issues: shape };
  const replaced = new Set<number>();
  const nodes = raw.nodes.map((n: unknown, i: number) => {
    const node = NodeSchema.safeParse(n);
    if (node.success) return node.data;
    replaced.add(i);
    const id = (n as { id?: unknown } | null)?.id;
    return placeholderNode(typeof id === 'string' ? id : `#${i}`, (n as { type?: unknown } | null)?.type);
  });
  const settings = SettingsSchema.safeParse(raw.settings ?? {});
  const lenient: WorkflowDefinition = {
    name: 'placeholder',
    description: '',
    enabled: true,
    trigger: { type: 'manual' },
    conditions: [],
    // An invalid timeout is reported already; the longest one keeps delays from being blamed for it.
    settings: settings.success ? settings.data : { timeout: '15min' },
    nodes,
    edges: edgesOk.data,
  };
  const reported = shape.map((i) => formatPath(i.path));
  const extra = semanticIssues(lenient).filter((issue) => {
    if (issue.path[0] === 'nodes' && typeof issue.path[1] === 'number' && replaced.has(issue.path[1])) return false;
    const path = formatPath(issue.path);
    return !reported.some((r) => path === r || path.startsWith(`${r}.`) || path.startsWith(`${r}[`));
  });
  return { ok: false, issues: [...shape, ...extra] };
}

/** Like `validateWorkflowDefinition` but throws `InvalidWorkflowError`. */
export function assertWorkflowDefinition(data: unknown, fileName?: string): WorkflowDefinition {
  const result = validateWorkflowDefinition(data);
  if (!result.ok) throw new InvalidWorkflowError(result.errors, fileName);
  return result.definition;
}

/** The YAML node at `path`, or its nearest existing ancestor. */
function nodeAt(root: YamlNode | null, path: readonly PropertyKey[]): YamlNode | null {
  let current: YamlNode | null = root;
  let best = root;
  for (const seg of path) {
    if (isMap(current)) {
      const pair = current.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) break;
      // For a missing value (`key:`), point at the key.
      current = (pair.value as YamlNode | null) ?? (pair.key as YamlNode | null);
    } else if (isSeq(current) && typeof seg === 'number') {
      current = (current.items[seg] as YamlNode | undefined) ?? null;
    } else break;
    if (!current) break;
    best = current;
  }
  return best;
}

/**
 * Parses a workflow file (YAML, or JSON, which YAML reads too) and validates it. Returns the
 * definition or every problem found, each with its path and line.
 */
export function parseWorkflowDocument(text: string, options: { fileName?: string } = {}): DefinitionResult {
  const file = options.fileName === undefined ? {} : { file: options.fileName };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: '', message: e.message.split('\n')[0] ?? e.message, line: pos.line, column: pos.col, ...file };
      }),
    };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const checked = allIssues(data);
  if (checked.ok) return { ok: true, definition: checked.definition };
  const raw = checked.issues;
  const contents = doc.contents as YamlNode | null;
  return {
    ok: false,
    errors: raw.map((i) => {
      const node = nodeAt(contents, i.path);
      const offset = node?.range?.[0];
      const pos = offset === undefined ? undefined : lineCounter.linePos(offset);
      return { path: formatPath(i.path), message: i.message, ...(pos ? { line: pos.line, column: pos.col } : {}), ...file };
    }),
  };
}

type JsonSchema = Record<string, unknown>;

/**
 * An action input's JSON Schema, loosened so that a value which is exactly one `{{reference}}`
 * is accepted where another type is expected (it gets its type when rendered).
 */
function actionInputJsonSchema(actionType: ActionType): JsonSchema {
  const schema = z.toJSONSchema(ACTION_INPUT_SCHEMAS[actionType], { io: 'input', target: 'draft-2020-12' }) as JsonSchema;
  delete schema.$schema;
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, prop] of Object.entries(properties)) {
    if (prop.type !== 'string') properties[key] = { anyOf: [prop, { type: 'string', pattern: '^\\{\\{\\s*[^{}\\s]+\\s*\\}\\}$' }] };
  }
  return schema;
}

/** JSON Schema (draft 2020-12) of the document format, generated from the zod schema. */
export function workflowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(WorkflowDocumentSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  // Editors also get each action's input fields: zod keeps `input` a plain record so that the
  // definition checks can report input errors with template-aware rules.
  const nodeVariants = ((schema.properties as Record<string, JsonSchema>).nodes!.items as JsonSchema).oneOf as JsonSchema[];
  const actionVariant = nodeVariants.find((v) => ((v.properties as Record<string, JsonSchema>).type as JsonSchema).const === 'action');
  if (actionVariant) {
    actionVariant.allOf = ACTION_TYPES.map((t) => ({
      if: { properties: { action: { const: t } }, required: ['action'] },
      then: { properties: { input: actionInputJsonSchema(t) } },
    }));
  }
  return {
    $schema: schema.$schema,
    $id: 'https://incident-workflows.dev/schemas/workflow.schema.json',
    title: 'Incident workflow',
    description: 'A workflow document: trigger, conditions, settings and a graph of trigger, action, condition and delay nodes.',
    ...schema,
  };
}

/** The text of `schemas/workflow.schema.json`. */
export function workflowJsonSchemaText(): string {
  return `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`;
}
