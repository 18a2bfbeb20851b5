/**
 * A canary secret used by every action type, on success and failure paths, with debug logging on,
 * must appear zero times in logs, outputs, error texts (message, stack, inspected form) and the
 * database's columns.
 */
import { inspect } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionRegistry } from '../../../src/integrations/ActionRegistry.js';
import { PrismaIntentStore } from '../../../src/integrations/PrismaIntentStore.js';
import { createJiraCreateIssueAction } from '../../../src/integrations/actions/jira.js';
import { createLinearCreateIssueAction } from '../../../src/integrations/actions/linear.js';
import { createWebhookAction } from '../../../src/integrations/actions/webhook.js';
import { EgressGuard } from '../../../src/integrations/ssrf/EgressGuard.js';
import { generateKey } from '../../../src/secrets/crypto.js';
import { SecretStore } from '../../../src/secrets/SecretStore.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { FakeJira } from '../../helpers/fake-jira.js';
import { FakeLinear } from '../../helpers/fake-linear.js';
import { FakeWebhookReceiver } from '../../helpers/fake-webhook.js';
import { captureLogs, makeContext } from './support.js';

const CANARY = 'canary-7f3e9b1c5a-SECRET';
const EMAIL = 'bot@example.com';
/** Every spelling of the canary that would count as a leak. */
const LEAK_FORMS = [
  CANARY,
  Buffer.from(CANARY).toString('base64').replace(/=+$/, ''),
  Buffer.from(`${EMAIL}:${CANARY}`).toString('base64').replace(/=+$/, ''),
  encodeURIComponent(CANARY),
];

let db: TestDatabase;
let receiver: FakeWebhookReceiver;
let jira: FakeJira;
let linear: FakeLinear;

beforeAll(async () => {
  [db, receiver, jira, linear] = await Promise.all([createTestDatabase(), FakeWebhookReceiver.start(), FakeJira.start({ email: EMAIL, apiToken: CANARY }), FakeLinear.start(CANARY)]);
});
afterAll(async () => {
  await Promise.all([db?.drop(), receiver?.close(), jira?.close(), linear?.close()]);
});

function leaks(text: string): string[] {
  return LEAK_FORMS.filter((form) => text.includes(form));
}

describe('canary secret', () => {
  it('never appears in logs, outputs, errors or database columns', async () => {
    const logs = captureLogs();
    const secretStore = new SecretStore(db.prisma, { current: generateKey('k1'), previous: [] });
    for (const name of ['HOOK_TOKEN', 'HOOK_SIGNING', 'JIRA_API_TOKEN', 'LINEAR_API_KEY']) await secretStore.set(name, CANARY);
    await secretStore.set('JIRA_EMAIL', EMAIL);
    const secrets = Object.fromEntries(await secretStore.loadNames(['HOOK_TOKEN', 'HOOK_SIGNING', 'JIRA_API_TOKEN', 'LINEAR_API_KEY', 'JIRA_EMAIL']));
    expect(secrets.HOOK_TOKEN).toBe(CANARY);

    const guard = new EgressGuard({ allowList: ['127.0.0.1'] });
    const registry = new ActionRegistry([
      createWebhookAction({ guard, defaultTimeoutMs: 3000 }),
      createJiraCreateIssueAction({ baseUrl: jira.url, intents: new PrismaIntentStore(db.prisma), guard, timeoutMs: 3000 }),
      createLinearCreateIssueAction({ apiUrl: linear.url, guard, timeoutMs: 3000 }),
    ]);
    // The input as the engine renders it for sending: secret values substituted.
    const hook = (path: string) => ({
      url: `${receiver.url(path)}?token=${CANARY}`,
      headers: { Authorization: `Bearer ${CANARY}`, 'X-Api-Key': CANARY },
      body: { token: CANARY, note: `key=${CANARY}` },
      signingSecret: 'HOOK_SIGNING',
    });
    const cases: Array<{ label: string; type: string; input: Record<string, unknown>; before?: () => void; expectError: boolean }> = [
      { label: 'webhook success echoing the request', type: 'webhook', input: hook('/ok'), before: () => receiver.misbehave({ kind: 'echo', status: 200 }), expectError: false },
      { label: 'webhook 400 echoing the request', type: 'webhook', input: hook('/bad'), before: () => receiver.misbehave({ kind: 'echo', status: 400 }), expectError: true },
      { label: 'webhook 503', type: 'webhook', input: hook('/down'), before: () => receiver.misbehave({ kind: 'status-after-receive', status: 503, body: `{"error":"upstream said ${CANARY}"}` }), expectError: true },
      { label: 'webhook dropped connection', type: 'webhook', input: hook('/drop'), before: () => receiver.misbehave({ kind: 'drop-after-receive' }), expectError: true },
      { label: 'webhook redirect', type: 'webhook', input: hook('/r'), before: () => receiver.misbehave({ kind: 'redirect', location: `https://example.com/next?token=${CANARY}` }), expectError: true },
      { label: 'webhook blocked destination', type: 'webhook', input: { ...hook('/x'), url: `http://10.0.0.1/?token=${CANARY}` }, expectError: true },
      { label: 'webhook invalid input', type: 'webhook', input: { ...hook('/x'), method: CANARY }, expectError: true },
      { label: 'jira success', type: 'jira.create_issue', input: { project: 'OPS', summary: 'Outage' }, expectError: false },
      { label: 'jira 400 echoing the Authorization header', type: 'jira.create_issue', input: { project: 'OPS', summary: 'Outage' }, before: () => jira.misbehave({ kind: 'echo-auth-error' }), expectError: true },
      { label: 'jira dropped connection', type: 'jira.create_issue', input: { project: 'OPS', summary: 'Outage' }, before: () => jira.misbehave({ kind: 'create-then-drop' }), expectError: true },
      { label: 'jira validation error', type: 'jira.create_issue', input: { project: 'NOPE', summary: 'Outage' }, expectError: true },
      { label: 'linear success', type: 'linear.create_issue', input: { teamId: 'team-ops', title: 'Outage' }, expectError: false },
      { label: 'linear error echoing the key', type: 'linear.create_issue', input: { teamId: 'team-ops', title: 'Outage' }, before: () => linear.misbehave({ kind: 'echo-auth-error' }), expectError: true },
      { label: 'linear 504 after create', type: 'linear.create_issue', input: { teamId: 'team-ops', title: 'Outage' }, before: () => linear.misbehave({ kind: 'create-then-status', status: 504 }), expectError: true },
      { label: 'linear unknown team', type: 'linear.create_issue', input: { teamId: 'nope', title: 'Outage' }, expectError: true },
    ];

    const seen: string[] = [];
    let n = 0;
    for (const c of cases) {
      c.before?.();
      const ctx = makeContext({ secrets, logger: logs.logger, executionId: `canary-${n++}`, nodeId: 'step' });
      try {
        const output = await registry.run(c.type, c.input, ctx);
        expect(c.expectError, c.label).toBe(false);
        seen.push(`${c.label} output: ${JSON.stringify(output)}`);
        logs.logger.info({ output }, 'action completed');
      } catch (error) {
        expect(c.expectError, `${c.label}: ${String(error)}`).toBe(true);
        seen.push(`${c.label} error: ${String(error)} ${(error as Error).stack ?? ''} ${inspect(error, { depth: 8 })} ${JSON.stringify(error)}`);
        // As the executor would log it.
        logs.logger.error({ err: error }, 'action failed');
      }
    }
    // The servers did receive the canary (so the test could fail): it was used for real.
    expect(receiver.requests.some((r) => r.headers.authorization === `Bearer ${CANARY}`)).toBe(true);
    expect(linear.requests.some((r) => r.headers.authorization === CANARY)).toBe(true);
    expect(jira.requests.some((r) => r.headers.authorization === `Basic ${Buffer.from(`${EMAIL}:${CANARY}`).toString('base64')}`)).toBe(true);
    // The echoing answers did contain it, before scrubbing.
    expect(seen.join('\n')).toContain('[REDACTED]');

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    let dbText = '';
    try {
      const tables = (await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)).rows as Array<{ table_name: string }>;
      for (const { table_name } of tables) {
        const rows = (await client.query(`SELECT * FROM "${table_name.replace(/"/g, '""')}"`)).rows as unknown[];
        dbText += JSON.stringify(rows, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('latin1') : v));
      }
    } finally {
      await client.end();
    }
    expect(dbText).toContain('OPS-');

    expect(leaks(logs.text())).toEqual([]);
    expect(seen.filter((s) => leaks(s).length > 0)).toEqual([]);
    expect(leaks(dbText)).toEqual([]);
    expect(logs.text()).toContain('webhook request');
  });
});
