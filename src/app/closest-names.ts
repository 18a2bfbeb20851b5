/** "Did you mean ...?" for workflow names typed in chat. */

/** Levenshtein edit distance (insert, delete, substitute), O(a*b) time, O(b) memory. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The candidates closest to `name` (case-insensitive), at most `limit`, only those within a
 * distance of about a third of the name's length (min 2) or that contain it.
 */
export function closestNames(name: string, candidates: readonly string[], limit = 3): string[] {
  const needle = name.toLowerCase();
  if (!needle) return [];
  const maxDistance = Math.max(2, Math.ceil(needle.length / 3));
  return candidates
    .map((c) => {
      const lower = c.toLowerCase();
      const d = lower.includes(needle) || needle.includes(lower) ? 1 : levenshtein(needle, lower);
      return { c, d };
    })
    .filter((x) => x.d <= maxDistance)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, limit)
    .map((x) => x.c);
}
