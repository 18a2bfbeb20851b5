/**
 * Which secrets a run needs: only those its pinned definition references (`{{secrets.NAME}}` in
 * an action's input, a webhook's `signingSecret`), so a run never holds more plaintext than it uses.
 */
import { findReferences, forEachString } from '../engine/templates.js';

/** Loads and decrypts secrets by name (`SecretStore` implements it). */
export interface SecretLoader {
  loadNames(names: Iterable<string>): Promise<ReadonlyMap<string, string>>;
}

/** Secrets an action handler needs for an input besides template references (`ActionRegistry.secretNamesFor`). */
export type HandlerSecretNames = (actionType: string, input: Record<string, unknown>) => string[];

/** Secret names referenced by a workflow definition, sorted and unique. */
export function referencedSecretNames(definition: unknown, handlerNames?: HandlerSecretNames): string[] {
  const names = new Set<string>();
  const nodes = (definition as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  for (const node of nodes as Array<{ type?: unknown; action?: unknown; input?: unknown }>) {
    if (node?.type !== 'action') continue;
    if (handlerNames && typeof node.action === 'string' && node.input !== null && typeof node.input === 'object') {
      for (const name of handlerNames(node.action, node.input as Record<string, unknown>)) names.add(name);
    }
    forEachString(node.input, (text, path) => {
      if (path.length === 1 && path[0] === 'signingSecret') names.add(text);
      for (const ref of findReferences(text)) {
        const [root, name, ...rest] = ref.split('.');
        if (root === 'secrets' && name && rest.length === 0) names.add(name);
      }
    });
  }
  return [...names].sort();
}
