/**
 * Which secrets a run needs: only those its pinned definition references (`{{secrets.NAME}}` in
 * an action's input, a webhook's `signingSecret`), so a run never holds more plaintext than it uses.
 */
import { findReferences, forEachString } from '../engine/templates.js';

/** Loads and decrypts secrets by name (the secret store implements it). Unknown names are left out. */
export interface SecretLoader {
  load(names: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

/** Secret names referenced by a workflow definition, sorted and unique. */
export function referencedSecretNames(definition: unknown): string[] {
  const names = new Set<string>();
  const nodes = (definition as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  for (const node of nodes as Array<{ type?: unknown; input?: unknown }>) {
    if (node?.type !== 'action') continue;
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
