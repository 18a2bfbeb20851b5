/**
 * Graph helpers over a workflow's nodes and edges: a deterministic topological order (ties keep
 * the document's node order), reachability, the nodes that always run before a node, and which
 * nodes a run visits given the condition branches taken so far.
 */

export interface GraphNode {
  id: string;
  type: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  branch?: boolean;
}

/** Topological order of the nodes, or `null` when the graph has a cycle. Unknown edge ends are ignored. */
export function topologicalOrder(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): string[] | null {
  const ids = nodes.map((n) => n.id);
  const known = new Set(ids);
  const indegree = new Map(ids.map((id) => [id, 0]));
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of edges) {
    if (!known.has(e.from) || !known.has(e.to)) continue;
    out.get(e.from)!.push(e.to);
    indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
  }
  const order: string[] = [];
  const ready = ids.filter((id) => indegree.get(id) === 0);
  const position = new Map(ids.map((id, i) => [id, i]));
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const id = ready.shift()!;
    order.push(id);
    for (const next of out.get(id)!) {
      const d = indegree.get(next)! - 1;
      indegree.set(next, d);
      if (d === 0) ready.push(next);
    }
  }
  return order.length === ids.length ? order : null;
}

/** One cycle as a list of node ids (first repeated at the end), or `null` when acyclic. */
export function findCycle(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): string[] | null {
  const out = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const e of edges) if (out.has(e.from) && out.has(e.to)) out.get(e.from)!.push(e.to);
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const next of out.get(id)!) {
      if (state.get(next) === 'visiting') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const n of nodes) {
    if (!state.has(n.id)) {
      const found = visit(n.id);
      if (found) return found;
    }
  }
  return null;
}

/** Ids reachable from `start` (including it). */
export function reachableFrom(start: string, edges: readonly GraphEdge[]): Set<string> {
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const e of edges) {
      if (e.from === id && !seen.has(e.to)) {
        seen.add(e.to);
        queue.push(e.to);
      }
    }
  }
  return seen;
}

/**
 * For each node reachable from `start`: the nodes that run before it on every path from the
 * start (its strict dominators). Needs an acyclic graph and its topological order.
 */
export function alwaysBefore(start: string, order: readonly string[], edges: readonly GraphEdge[]): Map<string, Set<string>> {
  const reachable = reachableFrom(start, edges);
  const dom = new Map<string, Set<string>>();
  for (const id of order) {
    if (!reachable.has(id)) continue;
    if (id === start) {
      dom.set(id, new Set([id]));
      continue;
    }
    const preds = edges.filter((e) => e.to === id && dom.has(e.from)).map((e) => dom.get(e.from)!);
    let common: Set<string> | undefined;
    for (const p of preds) common = common ? new Set([...common].filter((x) => p.has(x))) : new Set(p);
    dom.set(id, new Set([...(common ?? []), id]));
  }
  const strict = new Map<string, Set<string>>();
  for (const [id, set] of dom) strict.set(id, new Set([...set].filter((x) => x !== id)));
  return strict;
}

/**
 * Whether a node is on the run's path: the trigger always is; any other node is when at least one
 * incoming edge comes from a node that ran and, for a condition node, matches the branch it took.
 * `ran(id)` says whether a node has finished, `branchOf(id)` the branch a condition node took.
 */
export function isActivated(
  node: GraphNode,
  edges: readonly GraphEdge[],
  typeOf: (id: string) => string | undefined,
  ran: (id: string) => boolean,
  branchOf: (id: string) => boolean | undefined,
): boolean {
  if (node.type === 'trigger') return true;
  return edges.some((e) => {
    if (e.to !== node.id || !ran(e.from)) return false;
    if (typeOf(e.from) !== 'condition') return true;
    return branchOf(e.from) === e.branch;
  });
}
