/**
 * Line numbers for paths inside a YAML (or JSON) document, so every problem can be reported as
 * `file:line`. When the exact path does not exist (a missing field), the nearest existing
 * ancestor's line is used.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

/** Finds lines for paths inside one document's text. */
export interface LineLocator {
  /** 1-based line of `path`, or of its nearest existing ancestor; undefined when unparseable. */
  lineOf(path: ReadonlyArray<string | number>): number | undefined;
}

/** Builds a locator for `text`. Never throws: an unparseable text locates nothing. */
export function createLineLocator(text: string): LineLocator {
  const lineCounter = new LineCounter();
  let root: Node | null = null;
  try {
    const doc = parseDocument(text, { lineCounter, keepSourceTokens: false });
    root = (doc.contents as Node | null) ?? null;
  } catch {
    root = null;
  }
  const lineAt = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  return {
    lineOf(path) {
      if (!root) return undefined;
      let node: Node = root;
      let line = lineAt(node.range?.[0]);
      for (const segment of path) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
          if (!pair) return line;
          // Point at the key ("url:"), which is where an editor user looks.
          line = lineAt((pair.key as Node).range?.[0]) ?? line;
          if (!pair.value || typeof pair.value !== 'object') return line;
          node = pair.value as Node;
        } else if (isSeq(node)) {
          const index = typeof segment === 'number' ? segment : Number(segment);
          const item = Number.isInteger(index) ? node.items[index] : undefined;
          if (!item || typeof item !== 'object') return line;
          node = item as Node;
          line = lineAt(node.range?.[0]) ?? line;
        } else {
          return line;
        }
      }
      return line;
    },
  };
}
