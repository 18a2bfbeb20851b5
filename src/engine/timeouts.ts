/** Workflow timeouts (seed plan), measured from the run's `startedAt`. */
export const WORKFLOW_TIMEOUTS = {
  '1min': 60_000,
  '5min': 300_000,
  '15min': 900_000,
} as const;

export type WorkflowTimeout = keyof typeof WORKFLOW_TIMEOUTS;

/** Upper bound for one action attempt; the real bound is `min(this, remaining * 0.8)`. */
export const MAX_ACTION_TIMEOUT_MS = 30_000;

/** Per-action timeout: `min(30s, remaining * 0.8)`, so an action never eats the whole remaining budget. */
export function actionTimeoutMs(remainingMs: number): number {
  return Math.max(0, Math.min(MAX_ACTION_TIMEOUT_MS, Math.floor(remainingMs * 0.8)));
}
