import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BlockedDestinationError, RateLimitedError, TransientError, UserError } from '../../../src/engine/errors.js';
import { ActionRegistry } from '../../../src/integrations/ActionRegistry.js';
import { MemoryIntentStore } from '../../../src/integrations/IntentStore.js';
import { createJiraCreateIssueAction, jiraIdempotencyLabel } from '../../../src/integrations/actions/jira.js';
import { EgressGuard } from '../../../src/integrations/ssrf/EgressGuard.js';
import { FakeJira } from '../../helpers/fake-jira.js';
import { makeContext, runWithRetries } from './support.js';

let jira: FakeJira;
let intents: MemoryIntentStore;
const secrets = { JIRA_EMAIL: 'bot@example.com', JIRA_API_TOKEN: 'jira-token' };

function registry(timeoutMs = 5000): ActionRegistry {
  const guard = new EgressGuard({ allowList: ['127.0.0.1'] });
  return new ActionRegistry([createJiraCreateIssueAction({ baseUrl: jira.url, intents, guard, timeoutMs })]);
}

beforeAll(async () => {
  jira = await FakeJira.start();
});
afterAll(async () => jira.close());
beforeEach(() => {
  jira.issues.length = 0;
  jira.requests.length = 0;
  intents = new MemoryIntentStore();
});

describe('jira.create_issue', () => {
  it('creates the issue with ADF description, labels, priority and returns key, id and url', async () => {
    const out = await registry().run(
      'jira.create_issue',
      { project: 'OPS', issueType: 'Bug', summary: 'Database down', description: 'Line one\nline two\n\nSecond paragraph', labels: ['sev 1', 'db'], priority: 'High' },
      makeContext({ secrets, executionId: 'e1', nodeId: 'jira' }),
    );
    expect(out).toEqual({ key: 'OPS-1', id: '10000', url: `${jira.url}/browse/OPS-1` });
    const [create] = jira.creates();
    expect(create!.headers.authorization).toBe(`Basic ${Buffer.from('bot@example.com:jira-token').toString('base64')}`);
    const fields = (create!.body as { fields: Record<string, unknown> }).fields;
    expect(fields).toMatchObject({ project: { key: 'OPS' }, issuetype: { name: 'Bug' }, summary: 'Database down', priority: { name: 'High' } });
    expect(fields.labels).toEqual(['sev-1', 'db', jiraIdempotencyLabel('e1:jira')]);
    expect(fields.description).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'Line one' }, { type: 'hardBreak' }, { type: 'text', text: 'line two' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'Second paragraph' }] },
      ],
    });
  });

  it("reports Jira's validation errors usefully", async () => {
    const err = await registry().run('jira.create_issue', { project: 'NOPE', summary: 'x' }, makeContext({ secrets })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe('Jira answered 400: valid project is required (POST /rest/api/3/issue)');
  });

  it('wrong credentials are a user error; missing ones name the secrets', async () => {
    const err = await registry().run('jira.create_issue', { project: 'OPS', summary: 'x' }, makeContext({ secrets: { ...secrets, JIRA_API_TOKEN: 'wrong-token' } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^Jira answered 401: You are not authenticated/);
    await expect(registry().run('jira.create_issue', { project: 'OPS', summary: 'x' }, makeContext({ secrets: {} }))).rejects.toThrow('Jira credentials missing: set secret(s) JIRA_EMAIL, JIRA_API_TOKEN');
  });

  it('429 becomes RateLimitedError with Retry-After', async () => {
    jira.misbehave({ kind: 'rate-limit', retryAfterSeconds: 3 });
    const err = await registry().run('jira.create_issue', { project: 'OPS', summary: 'x' }, makeContext({ secrets })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(3000);
  });

  for (const mode of [{ kind: 'create-then-drop' } as const, { kind: 'create-then-status', status: 504 } as const]) {
    it(`ambiguous outcome (${mode.kind}): after retries exactly one issue exists for the key`, async () => {
      jira.misbehave(mode, 1);
      const reg = registry();
      const { result, errors, attempts } = await runWithRetries(4, (attempt) =>
        reg.run('jira.create_issue', { project: 'OPS', summary: 'Outage' }, makeContext({ secrets, executionId: 'amb', nodeId: mode.kind, attempt })),
      );
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(TransientError);
      expect(attempts).toBe(2);
      expect(jira.issues).toHaveLength(1);
      expect(jira.creates()).toHaveLength(1);
      expect(result).toEqual({ key: 'OPS-1', id: jira.issues[0]!.id, url: `${jira.url}/browse/OPS-1` });
      // The second attempt searched by the idempotency label instead of creating again.
      const search = jira.requests.find((r) => r.path === '/rest/api/3/search/jql');
      expect((search!.body as { jql: string }).jql).toBe(`labels = "${jiraIdempotencyLabel(`amb:${mode.kind}`)}"`);
      // A third call (e.g. a resumed run) returns the recorded result without touching Jira.
      const before = jira.requests.length;
      const again = await reg.run('jira.create_issue', { project: 'OPS', summary: 'Outage' }, makeContext({ secrets, executionId: 'amb', nodeId: mode.kind, attempt: 3 }));
      expect(again).toEqual(result);
      expect(jira.requests.length).toBe(before);
    });
  }

  it('a pending intent with nothing found creates the issue once', async () => {
    await intents.begin('e9:n', 'jira.create_issue');
    await registry().run('jira.create_issue', { project: 'OPS', summary: 'x' }, makeContext({ secrets, executionId: 'e9', nodeId: 'n', attempt: 2 }));
    expect(jira.issues).toHaveLength(1);
    expect((await intents.get('e9:n'))?.state).toBe('done');
  });
});

describe('jira.create_issue egress', () => {
  it('goes through the guarded agent: a Jira host name resolving to loopback is blocked unless allow-listed', async () => {
    const port = new URL(jira.url).port;
    const lookup = ((_h: string, o: { all?: boolean }, cb: (e: null, a: unknown, f?: number) => void) =>
      o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never;
    const blocked = new ActionRegistry([createJiraCreateIssueAction({ baseUrl: `http://jira.test:${port}`, intents, guard: new EgressGuard({ lookup }) })]);
    const err = await blocked.run('jira.create_issue', { project: 'OPS', summary: 'x' }, makeContext({ secrets })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockedDestinationError);
    expect((err as Error).message).toMatch(/blocked destination: jira\.test resolves to 127\.0\.0\.1 \(loopback\)/);
    expect(jira.requests).toHaveLength(0);

    const allowed = new ActionRegistry([createJiraCreateIssueAction({ baseUrl: `http://jira.test:${port}`, intents, guard: new EgressGuard({ lookup, allowList: ['jira.test'] }) })]);
    const out = await allowed.run('jira.create_issue', { project: 'OPS', summary: 'x' }, makeContext({ secrets, executionId: 'other' }));
    expect(out.url).toBe(`http://jira.test:${port}/browse/OPS-1`);
  });
});
