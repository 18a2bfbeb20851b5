/**
 * Work done once per workflow version instead of once per run or event. A run pins the document
 * of its workflow version, and a stored version never changes (`WorkflowVersion` is unique per
 * workflow and version; an edit makes a new version), so every run of one version validates the
 * same document and every event parses the same candidate documents: the worker and the
 * dispatcher keep the answers (a 40-node document costs about as much CPU to validate as the rest
 * of the run). Only for workflows read from the database, where that holds.
 */
import { validateWorkflowDefinition, type DefinitionResult, type WorkflowNode } from './definition.js';
import { topologicalOrder } from './graph.js';

/** A bounded map from workflow id and version to something derived from that version's document. */
export class VersionCache<T> {
  private readonly entries = new Map<string, T>();

  /** @param capacity most versions kept (the least recently used go first). */
  constructor(private readonly capacity = 500) {}

  /** The value for this workflow version, computed on a miss. */
  get(workflowId: string, version: number, compute: () => T): T {
    const key = `${workflowId}@${version}`;
    if (this.entries.has(key)) {
      const hit = this.entries.get(key) as T;
      // Map keeps insertion order: re-inserting marks the entry as recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const value = compute();
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A definition as the executor walks it: the validation result and, when valid, the walk order and nodes by id. */
export interface PreparedDefinition {
  result: DefinitionResult;
  order: string[];
  nodes: ReadonlyMap<string, WorkflowNode>;
}

/** Validates a snapshot and computes its walk order (no cache). */
export function prepareDefinition(snapshot: unknown): PreparedDefinition {
  const result = validateWorkflowDefinition(snapshot);
  const order = result.ok ? (topologicalOrder(result.definition.nodes, result.definition.edges) ?? []) : [];
  const nodes = new Map(result.ok ? result.definition.nodes.map((n) => [n.id, n] as const) : []);
  return { result, order, nodes };
}
