import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockedDestinationError, UserError } from '../../../src/engine/errors.js';
import { ActionRegistry, createIntegrationActions, MemoryIntentStore } from '../../../src/integrations/index.js';
import { FakeJira } from '../../helpers/fake-jira.js';
import { FakeLinear } from '../../helpers/fake-linear.js';
import { FakeWebhookReceiver } from '../../helpers/fake-webhook.js';
import { makeContext } from './support.js';

let jira: FakeJira;
let linear: FakeLinear;
let receiver: FakeWebhookReceiver;

beforeAll(async () => {
  [jira, linear, receiver] = await Promise.all([FakeJira.start(), FakeLinear.start(), FakeWebhookReceiver.start()]);
});
afterAll(async () => Promise.all([jira.close(), linear.close(), receiver.close()]));

function build(allow: string[] = []): ActionRegistry {
  return new ActionRegistry(
    createIntegrationActions({ WEBHOOK_ALLOWLIST: allow, WEBHOOK_TIMEOUT_MS: 3000, JIRA_BASE_URL: jira.url, LINEAR_API_URL: linear.url }, { intents: new MemoryIntentStore() }),
  );
}

describe('integration wiring', () => {
  it('registers the three outbound actions and rejects unknown types', async () => {
    const registry = build();
    expect(registry.types()).toEqual(['jira.create_issue', 'linear.create_issue', 'webhook']);
    await expect(registry.run('pagerduty.trigger', {}, makeContext())).rejects.toThrow(new UserError('unknown action type "pagerduty.trigger" (known: jira.create_issue, linear.create_issue, webhook)'));
  });

  it('says which secrets each action needs', () => {
    const registry = build();
    expect(registry.secretNamesFor('jira.create_issue', { project: 'OPS', summary: 's' })).toEqual(['JIRA_EMAIL', 'JIRA_API_TOKEN']);
    expect(registry.secretNamesFor('linear.create_issue', { teamId: 't', title: 't' })).toEqual(['LINEAR_API_KEY']);
    expect(registry.secretNamesFor('webhook', { url: 'https://x.example', signingSecret: 'HOOK_KEY' })).toEqual(['HOOK_KEY']);
    expect(registry.secretNamesFor('webhook', { url: 'https://x.example' })).toEqual([]);
  });

  it('the configured Jira and Linear hosts are reachable while webhooks to the same internal address stay blocked', async () => {
    const registry = build();
    const secrets = { JIRA_EMAIL: 'bot@example.com', JIRA_API_TOKEN: 'jira-token', LINEAR_API_KEY: 'lin_api_test' };
    await expect(registry.run('jira.create_issue', { project: 'OPS', summary: 'x' }, makeContext({ secrets }))).resolves.toMatchObject({ key: 'OPS-1' });
    await expect(registry.run('linear.create_issue', { teamId: 'team-ops', title: 'x' }, makeContext({ secrets }))).resolves.toMatchObject({ identifier: 'OPS-1' });
    await expect(registry.run('webhook', { url: receiver.url() }, makeContext())).rejects.toBeInstanceOf(BlockedDestinationError);
    expect(receiver.connections).toBe(0);
    await expect(build(['127.0.0.1']).run('webhook', { url: receiver.url() }, makeContext())).resolves.toMatchObject({ status: 200 });
  });
});
