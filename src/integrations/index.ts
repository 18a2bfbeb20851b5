/**
 * Wiring for the outbound actions: builds the SSRF guards from configuration and the
 * `webhook`, `jira.create_issue` and `linear.create_issue` handlers. The application adds
 * `incident.update` and `chat.post` (src/app/actions) to the same `ActionRegistry`.
 */
import type net from 'node:net';
import type { ActionHandler } from './ActionRegistry.js';
import { createJiraCreateIssueAction } from './actions/jira.js';
import { createLinearCreateIssueAction } from './actions/linear.js';
import { createWebhookAction } from './actions/webhook.js';
import type { IntentStore } from './IntentStore.js';
import { EgressGuard } from './ssrf/EgressGuard.js';

export { ActionRegistry, defineAction, type ActionHandler } from './ActionRegistry.js';
export { EgressGuard } from './ssrf/EgressGuard.js';
export { MemoryIntentStore, type IntentStore } from './IntentStore.js';
export { PrismaIntentStore } from './PrismaIntentStore.js';

/** The configuration the integrations read (a subset of `Config`). */
export interface IntegrationConfig {
  WEBHOOK_ALLOWLIST: string[];
  WEBHOOK_TIMEOUT_MS: number;
  JIRA_BASE_URL?: string | undefined;
  LINEAR_API_URL: string;
}

function hostOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    return [new URL(url).hostname];
  } catch {
    return [];
  }
}

/**
 * The three outbound handlers. Webhook URLs come from workflow authors, so they get only
 * WEBHOOK_ALLOWLIST; the Jira and Linear hosts are operator configuration, so their own host
 * names are allow-listed too (an internal Jira Data Center works without widening webhooks).
 */
export function createIntegrationActions(config: IntegrationConfig, deps: { intents: IntentStore; lookup?: net.LookupFunction }): ActionHandler[] {
  const webhookGuard = new EgressGuard({ allowList: config.WEBHOOK_ALLOWLIST, lookup: deps.lookup });
  const serviceGuard = new EgressGuard({ allowList: [...config.WEBHOOK_ALLOWLIST, ...hostOf(config.JIRA_BASE_URL), ...hostOf(config.LINEAR_API_URL)], lookup: deps.lookup });
  return [
    createWebhookAction({ guard: webhookGuard, defaultTimeoutMs: config.WEBHOOK_TIMEOUT_MS }),
    createJiraCreateIssueAction({ baseUrl: config.JIRA_BASE_URL, intents: deps.intents, guard: serviceGuard }),
    createLinearCreateIssueAction({ apiUrl: config.LINEAR_API_URL, guard: serviceGuard }),
  ] as ActionHandler[];
}
