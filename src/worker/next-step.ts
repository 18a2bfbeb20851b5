/** Which step a run was on when its worker died: the first node on its path that has not completed. */
import { isActivated, topologicalOrder, type GraphEdge, type GraphNode } from '../engine/graph.js';
import type { ExecutionRecord } from '../engine/ports.js';

/** The label (name or id) of the next node the run would execute, or null when none is left. */
export function nextStepLabel(record: Pick<ExecutionRecord, 'definitionSnapshot' | 'completedNodes' | 'nodeResults'>): string | null {
  const def = record.definitionSnapshot as { nodes?: Array<GraphNode & { name?: string }>; edges?: GraphEdge[] } | null;
  const nodes = def?.nodes ?? [];
  const edges = def?.edges ?? [];
  const byId = new Map(nodes.map((n) => [n.id, n] as const));
  for (const id of topologicalOrder(nodes, edges) ?? []) {
    const node = byId.get(id)!;
    if (record.completedNodes.includes(id)) continue;
    const active = isActivated(
      node,
      edges,
      (x) => byId.get(x)?.type,
      (x) => record.completedNodes.includes(x),
      (x) => record.nodeResults[x]?.branch,
    );
    if (active) return node.name ?? node.id;
  }
  return null;
}
