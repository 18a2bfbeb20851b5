/**
 * Validated run definitions, by workflow id and version. A run pins the document of its workflow
 * version, and a stored version never changes (`WorkflowVersion` is unique per workflow and
 * version), so every run of one version validates the same document: the worker keeps the answer
 * instead of validating it again for each run (a 40-node document costs about as much CPU to
 * validate as the rest of the run). Only for records that come from the database, where that holds.
 */
import { validateWorkflowDefinition, type DefinitionResult } from './definition.js';
import { topologicalOrder } from './graph.js';

/** A definition as the executor walks it: the validation result and, when valid, the walk order. */
export interface PreparedDefinition {
  result: DefinitionResult;
  order: string[];
}

export class DefinitionCache {
  private readonly entries = new Map<string, PreparedDefinition>();

  /** @param capacity most versions kept (the least recently used go first). */
  constructor(private readonly capacity = 500) {}

  /** The prepared definition of this workflow version, validating `snapshot` on a miss. */
  get(workflowId: string, version: number, snapshot: unknown): PreparedDefinition {
    const key = `${workflowId}@${version}`;
    const hit = this.entries.get(key);
    if (hit) {
      // Map keeps insertion order: re-inserting marks the entry as recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const prepared = prepareDefinition(snapshot);
    this.entries.set(key, prepared);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return prepared;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Validates a snapshot and computes its walk order (no cache). */
export function prepareDefinition(snapshot: unknown): PreparedDefinition {
  const result = validateWorkflowDefinition(snapshot);
  const order = result.ok ? (topologicalOrder(result.definition.nodes, result.definition.edges) ?? []) : [];
  return { result, order };
}
