import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  InvalidWorkflowError,
  assertWorkflowDefinition,
  formatDefinitionIssues,
  parseWorkflowDocument,
  validateWorkflowDefinition,
  type WorkflowDocumentInput,
} from '../../../src/engine/definition.js';
import { branchingWorkflow, linearWorkflow } from './fixtures.js';

type Doc = Record<string, unknown> & { nodes: Array<Record<string, unknown>>; edges: Array<Record<string, unknown>> };

/** A fresh copy of a valid document to break. */
function base(): Doc {
  return structuredClone(branchingWorkflow()) as unknown as Doc;
}
function chain(): Doc {
  return structuredClone(linearWorkflow()) as unknown as Doc;
}

const badDefinitions: Array<{ name: string; doc: () => unknown; path: string; message: RegExp }> = [
  {
    name: 'cycle',
    doc: () => {
      const d = chain();
      d.edges.push({ from: 'c', to: 'a' });
      return d;
    },
    path: 'edges[3]',
    message: /cycle: a -> b -> c -> a/,
  },
  {
    name: 'self loop',
    doc: () => {
      const d = chain();
      d.edges.push({ from: 'b', to: 'b' });
      return d;
    },
    path: 'edges[3]',
    message: /cycle/,
  },
  {
    name: 'dangling edge',
    doc: () => {
      const d = chain();
      d.edges.push({ from: 'c', to: 'nowhere' });
      return d;
    },
    path: 'edges[3].to',
    message: /unknown node "nowhere"/,
  },
  {
    name: 'edge from an unknown node',
    doc: () => {
      const d = chain();
      d.edges.push({ from: 'ghost', to: 'c' });
      return d;
    },
    path: 'edges[3].from',
    message: /unknown node "ghost"/,
  },
  {
    name: 'two triggers',
    doc: () => {
      const d = chain();
      d.nodes.push({ id: 'start2', type: 'trigger' });
      d.edges.push({ from: 'start2', to: 'c' });
      return d;
    },
    path: 'nodes[4].type',
    message: /exactly one trigger node/,
  },
  {
    name: 'no trigger node',
    doc: () => {
      const d = chain();
      d.nodes.shift();
      d.edges.shift();
      return d;
    },
    path: 'nodes',
    message: /exactly one trigger node is required/,
  },
  { name: 'unknown node type', doc: () => { const d = chain(); d.nodes[2]!.type = 'loop'; return d; }, path: 'nodes[2].type', message: /Expected/ },
  { name: 'bad timeout', doc: () => ({ ...chain(), settings: { timeout: '10min' } }), path: 'settings.timeout', message: /1min|5min|15min/ },
  {
    name: 'unknown template reference',
    doc: () => {
      const d = base();
      (d.nodes[2]!.input as Record<string, unknown>).summary = '{{incident.severity}}';
      return d;
    },
    path: 'nodes[2].input.summary',
    message: /unknown template reference "\{\{incident.severity\}\}"/,
  },
  {
    name: 'unknown template root',
    doc: () => {
      const d = base();
      (d.nodes[4]!.input as Record<string, unknown>).text = 'hi {{user.name}}';
      return d;
    },
    path: 'nodes[4].input.text',
    message: /unknown template reference/,
  },
  {
    name: 'delay longer than the timeout',
    doc: () => {
      const d = chain();
      d.settings = { timeout: '1min' };
      d.nodes.push({ id: 'wait', type: 'delay', seconds: 90 });
      d.edges.push({ from: 'c', to: 'wait' });
      return d;
    },
    path: 'nodes[4].seconds',
    message: /does not fit in the 1min workflow timeout/,
  },
  {
    name: 'delays adding up past the timeout',
    doc: () => {
      const d = chain();
      d.nodes.push({ id: 'w1', type: 'delay', seconds: 200 }, { id: 'w2', type: 'delay', seconds: 200 });
      d.edges.push({ from: 'c', to: 'w1' }, { from: 'w1', to: 'w2' });
      return d;
    },
    path: 'nodes[5].seconds',
    message: /add up to 400s/,
  },
  {
    name: 'condition missing its false branch',
    doc: () => {
      const d = base();
      d.edges = d.edges.filter((e) => !(e.from === 'check' && e.branch === false));
      d.edges.push({ from: 'start', to: 'chat' });
      return d;
    },
    path: 'nodes[1]',
    message: /needs an edge with branch: false/,
  },
  {
    name: 'condition edge without a branch',
    doc: () => {
      const d = base();
      delete d.edges[1]!.branch;
      return d;
    },
    path: 'edges[1].branch',
    message: /must say branch: true or branch: false/,
  },
  {
    name: 'branch on a non-condition edge',
    doc: () => {
      const d = chain();
      d.edges[1]!.branch = true;
      return d;
    },
    path: 'edges[1].branch',
    message: /only edges leaving a condition node have a branch/,
  },
  {
    name: 'unreachable node',
    doc: () => {
      const d = chain();
      d.nodes.push({ id: 'orphan', type: 'action', action: 'chat.post', input: { channel: 'team', text: 'hi' } });
      return d;
    },
    path: 'nodes[4]',
    message: /not reachable from the trigger/,
  },
  {
    name: 'duplicate node id',
    doc: () => {
      const d = chain();
      d.nodes.push({ id: 'b', type: 'action', action: 'chat.post', input: { channel: 'team', text: 'x' } });
      return d;
    },
    path: 'nodes[4].id',
    message: /duplicate node id "b"/,
  },
  { name: 'unknown action type', doc: () => { const d = chain(); d.nodes[1]!.action = 'email.send'; return d; }, path: 'nodes[1].action', message: /webhook/ },
  { name: 'bad action input (url)', doc: () => { const d = chain(); d.nodes[1]!.input = { url: 'ftp://example.test' }; return d; }, path: 'nodes[1].input.url', message: /http\(s\) URL/ },
  {
    name: 'bad action input (missing summary)',
    doc: () => {
      const d = base();
      d.nodes[2]!.input = { project: 'OPS' };
      return d;
    },
    path: 'nodes[2].input.summary',
    message: /jira.create_issue/,
  },
  {
    name: 'bad action input (linear priority out of range)',
    doc: () => {
      const d = chain();
      d.nodes[1] = { id: 'a', type: 'action', action: 'linear.create_issue', input: { teamId: 't', title: 'x', priority: 9 } };
      return d;
    },
    path: 'nodes[1].input.priority',
    message: /linear.create_issue/,
  },
  {
    name: 'incident.update with nothing to update',
    doc: () => {
      const d = chain();
      d.nodes[1] = { id: 'a', type: 'action', action: 'incident.update', input: {} };
      return d;
    },
    path: 'nodes[1].input',
    message: /at least one of status, priority, assignee/,
  },
  {
    name: 'step reference to a later node',
    doc: () => {
      const d = chain();
      (d.nodes[1]!.input as Record<string, unknown>).body = { key: '{{steps.c.output.key}}' };
      return d;
    },
    path: 'nodes[1].input.body.key',
    message: /does not always run before node "a"/,
  },
  {
    name: 'step reference to a node on only one branch',
    doc: () => {
      const d = base();
      (d.nodes[5]!.input as Record<string, unknown>).assignee = '{{steps.ticket.output.assignee}}';
      return d;
    },
    path: 'nodes[5].input.assignee',
    message: /does not always run before node "done"/,
  },
  {
    name: 'step reference to a non-action node',
    doc: () => {
      const d = base();
      (d.nodes[4]!.input as Record<string, unknown>).text = '{{steps.check.output.branch}}';
      return d;
    },
    path: 'nodes[4].input.text',
    message: /not an action/,
  },
  {
    name: 'secret in a field that is stored or shown',
    doc: () => {
      const d = base();
      (d.nodes[4]!.input as Record<string, unknown>).text = 'token {{secrets.HOOK_TOKEN}}';
      return d;
    },
    path: 'nodes[4].input.text',
    message: /secrets may only be referenced in a webhook/,
  },
  { name: 'name that is not a slug', doc: () => ({ ...chain(), name: 'My Workflow!' }), path: 'name', message: /slug/ },
  { name: 'age trigger without minutes', doc: () => ({ ...chain(), trigger: { type: 'age' } }), path: 'trigger.minutes', message: /expected number/ },
  { name: 'unknown trigger type', doc: () => ({ ...chain(), trigger: { type: 'deployed' } }), path: 'trigger.type', message: /Expected/ },
  { name: 'unknown top-level key', doc: () => ({ ...chain(), steps: [] }), path: 'steps', message: /Unrecognized key/ },
  { name: 'condition value that is an object', doc: () => ({ ...chain(), conditions: [{ field: 'priority', value: { a: 1 } }] }), path: 'conditions[0].value', message: /Invalid input/ },
  {
    name: 'edge into the trigger',
    doc: () => {
      const d = chain();
      d.edges.push({ from: 'c', to: 'start' });
      return d;
    },
    path: 'edges[3].to',
    message: /cannot have incoming edges/,
  },
];

describe('workflow definitions: invalid documents', () => {
  it('has a table of at least 15 bad definitions', () => {
    expect(badDefinitions.length).toBeGreaterThanOrEqual(15);
  });

  it.each(badDefinitions)('rejects: $name (at $path)', ({ doc, path, message }) => {
    const result = validateWorkflowDefinition(doc());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const hit = result.errors.find((e) => e.path === path);
    expect(hit, `errors were: ${formatDefinitionIssues(result.errors)}`).toBeDefined();
    expect(hit!.message).toMatch(message);
    expect(formatDefinitionIssues(result.errors)).toContain(`${path}: `);
  });

  it('reports every problem at once, not just the first', () => {
    const d = chain();
    d.edges.push({ from: 'c', to: 'nowhere' });
    d.nodes[1]!.input = { url: 'ftp://x' };
    (d.nodes[2]!.input as Record<string, unknown>).body = '{{incident.nope}}';
    const result = validateWorkflowDefinition(d);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path).sort()).toEqual(['edges[3].to', 'nodes[1].input.url', 'nodes[2].input.body'].sort());
  });

  it('throws InvalidWorkflowError listing every issue from assertWorkflowDefinition', () => {
    const d = chain();
    d.settings = { timeout: '2h' };
    expect(() => assertWorkflowDefinition(d, 'broken.yml')).toThrow(InvalidWorkflowError);
    expect(() => assertWorkflowDefinition(d, 'broken.yml')).toThrow(/broken.yml: settings.timeout/);
  });
});

describe('workflow definitions: valid documents', () => {
  it('applies defaults', () => {
    const def = assertWorkflowDefinition(linearWorkflow());
    expect(def.enabled).toBe(true);
    expect(def.settings.timeout).toBe('5min');
    expect(def.conditions).toEqual([]);
    expect(def.description).toBe('');
    expect(def.team).toBeUndefined();
  });

  it('accepts a whole-template value where the action wants another type', () => {
    const doc: WorkflowDocumentInput = {
      ...linearWorkflow(),
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'a', type: 'action', action: 'linear.create_issue', input: { teamId: 't', title: '{{incident.title}}', priority: '{{incident.metadata.linearPriority}}' } },
      ],
      edges: [{ from: 'start', to: 'a' }],
    };
    expect(validateWorkflowDefinition(doc).ok).toBe(true);
  });

  it('accepts state_changed with only from, only to, or both', () => {
    for (const trigger of [{ type: 'state_changed', from: 'open' }, { type: 'state_changed', to: 'resolved' }, { type: 'state_changed', from: 'open', to: 'resolved' }, { type: 'state_changed' }]) {
      expect(validateWorkflowDefinition({ ...linearWorkflow(), trigger }).ok).toBe(true);
    }
  });

  it('lets a step reference an action that precedes it on every path', () => {
    const d = base();
    (d.nodes[5]!.input as Record<string, unknown>).assignee = '{{incident.assigneeId}}';
    d.nodes.push({ id: 'after', type: 'action', action: 'chat.post', input: { channel: 'team', text: 'done: {{steps.done.output.status}}' } });
    d.edges.push({ from: 'done', to: 'after' });
    expect(validateWorkflowDefinition(d)).toMatchObject({ ok: true });
  });
});

describe('workflow documents from text', () => {
  it('reports YAML syntax errors with their line', () => {
    const result = parseWorkflowDocument('name: x\ntrigger:\n  type: manual\nnodes: [\n', { fileName: 'bad.yml' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]!.line).toBeGreaterThanOrEqual(4);
      expect(result.errors[0]!.file).toBe('bad.yml');
    }
  });

  it('maps each validation error to the line of the offending value', () => {
    const text = [
      'name: broken', // 1
      'trigger:', // 2
      '  type: incident_created', // 3
      'settings:', // 4
      '  timeout: 2min', // 5
      'nodes:', // 6
      '  - id: start', // 7
      '    type: trigger', // 8
      '  - id: hook', // 9
      '    type: action', // 10
      '    action: webhook', // 11
      '    input:', // 12
      '      url: "{{incident.nope}}"', // 13
      'edges:', // 14
      '  - from: start', // 15
      '    to: hook', // 16
    ].join('\n');
    const zodFailure = parseWorkflowDocument(text, { fileName: 'broken.yml' });
    expect(zodFailure.ok).toBe(false);
    if (!zodFailure.ok) {
      expect(zodFailure.errors).toEqual([
        expect.objectContaining({ path: 'settings.timeout', line: 5, file: 'broken.yml' }),
        expect.objectContaining({ path: 'nodes[1].input.url', line: 13, file: 'broken.yml' }),
      ]);
    }

    const semantic = parseWorkflowDocument(text.replace('2min', '1min'), { fileName: 'broken.yml' });
    expect(semantic.ok).toBe(false);
    if (!semantic.ok) {
      expect(semantic.errors).toEqual([expect.objectContaining({ path: 'nodes[1].input.url', line: 13 })]);
      expect(formatDefinitionIssues(semantic.errors)).toMatch(/^broken.yml:13: nodes\[1\]\.input\.url: unknown template reference/);
    }
  });

  it('points a missing field at the nearest enclosing line', () => {
    const text = 'name: x\ntrigger:\n  type: age\nnodes:\n  - id: start\n    type: trigger\n';
    const result = parseWorkflowDocument(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual([expect.objectContaining({ path: 'trigger.minutes', line: 3 })]);
  });

  it('rejects duplicate keys', () => {
    const result = parseWorkflowDocument('name: a\nname: b\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]!.line).toBe(2);
  });

  it('reads JSON documents with lines too', () => {
    const json = JSON.stringify({ ...linearWorkflow(), settings: { timeout: 'forever' } }, null, 2);
    const result = parseWorkflowDocument(json, { fileName: 'x.json' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]!.path).toBe('settings.timeout');
      expect(json.split('\n')[result.errors[0]!.line! - 1]).toContain('forever');
    }
  });
});

describe('example workflows in workflows/', () => {
  const dir = fileURLToPath(new URL('../../../workflows/', import.meta.url));
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f));

  it('has at least three examples', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s is valid', (file) => {
    const result = parseWorkflowDocument(readFileSync(dir + file, 'utf8'), { fileName: file });
    expect(result.ok ? [] : formatDefinitionIssues(result.errors)).toEqual([]);
  });

  it('covers the three scenarios of the issue', () => {
    const defs = files.map((f) => parseWorkflowDocument(readFileSync(dir + f, 'utf8'))).flatMap((r) => (r.ok ? [r.definition] : []));
    const actionsOf = (d: (typeof defs)[number]) => d.nodes.flatMap((n) => (n.type === 'action' ? [n.action] : []));
    const p1 = defs.find((d) => d.trigger.type === 'incident_created' && d.conditions.some((c) => c.value === 'P1'));
    expect(p1 && actionsOf(p1)).toEqual(expect.arrayContaining(['jira.create_issue', 'webhook']));
    const resolved = defs.find((d) => d.trigger.type === 'state_changed' && d.trigger.to === 'resolved');
    expect(resolved && actionsOf(resolved)).toContain('linear.create_issue');
    const aged = defs.find((d) => d.trigger.type === 'age' && d.trigger.minutes === 30);
    expect(aged && actionsOf(aged)).toEqual(expect.arrayContaining(['incident.update', 'chat.post']));
  });
});

describe('workflow definitions: shape and graph errors together', () => {
  it('reports graph errors even when a node or a setting is malformed', () => {
    const d = chain();
    d.settings = { timeout: '10min' };
    d.nodes[1]!.input = 'not an object';
    d.edges.push({ from: 'c', to: 'nowhere' });
    const result = validateWorkflowDefinition(d);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path).sort()).toEqual(['edges[3].to', 'nodes[1].input', 'settings.timeout']);
  });

  it('does not blame other nodes for a node whose type is unknown', () => {
    const d = chain();
    d.nodes[2]!.type = 'loop';
    (d.nodes[3]!.input as Record<string, unknown>).body = '{{incident.nope}}';
    const result = parseWorkflowDocument(JSON.stringify(d, null, 2));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path)).toEqual(['nodes[2].type', 'nodes[3].input.body']);
  });
});
