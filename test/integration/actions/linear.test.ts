import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BlockedDestinationError, RateLimitedError, TransientError, UserError } from '../../../src/engine/errors.js';
import { ActionRegistry } from '../../../src/integrations/ActionRegistry.js';
import { createLinearCreateIssueAction } from '../../../src/integrations/actions/linear.js';
import { EgressGuard } from '../../../src/integrations/ssrf/EgressGuard.js';
import { uuidV5 } from '../../../src/integrations/uuid.js';
import { FakeLinear } from '../../helpers/fake-linear.js';
import { makeContext, runWithRetries } from './support.js';

let linear: FakeLinear;
const secrets = { LINEAR_API_KEY: 'lin_api_test' };

function registry(allow = ['127.0.0.1']): ActionRegistry {
  return new ActionRegistry([createLinearCreateIssueAction({ apiUrl: linear.url, guard: new EgressGuard({ allowList: allow }), timeoutMs: 5000 })]);
}

beforeAll(async () => {
  linear = await FakeLinear.start();
});
afterAll(async () => linear.close());
beforeEach(() => {
  linear.issues.length = 0;
  linear.requests.length = 0;
});

describe('linear.create_issue', () => {
  it('creates the issue with a deterministic id and returns identifier, id and url', async () => {
    const out = await registry().run(
      'linear.create_issue',
      { teamId: 'team-ops', title: 'Database down', description: '**sev1**', priority: 2, labelIds: ['lab-1'] },
      makeContext({ secrets, executionId: 'e1', nodeId: 'lin' }),
    );
    const id = uuidV5('e1:lin');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(out).toEqual({ identifier: 'OPS-1', id, url: 'https://linear.app/acme/issue/OPS-1' });
    const [create] = linear.creates();
    expect(create!.headers.authorization).toBe('lin_api_test');
    expect(create!.query).toMatch(/mutation createIssue\(\$input: IssueCreateInput!\)/);
    expect(create!.variables.input).toEqual({ id, teamId: 'team-ops', title: 'Database down', description: '**sev1**', priority: 2, labelIds: ['lab-1'] });
    expect(linear.requests.map((r) => r.operation)).toEqual(['createIssue', 'issue']);
  });

  it('an unknown team is a user error with Linear’s message', async () => {
    const err = await registry().run('linear.create_issue', { teamId: 'nope', title: 'x' }, makeContext({ secrets })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/Could not find referenced Team\. \(issueCreate\)$/);
  });

  it('rate limiting becomes RateLimitedError with Retry-After', async () => {
    linear.misbehave({ kind: 'rate-limit', retryAfterSeconds: 4 });
    const err = await registry().run('linear.create_issue', { teamId: 'team-ops', title: 'x' }, makeContext({ secrets })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(4000);
  });

  it('a missing API key names the secret; a non-allow-listed API URL is blocked', async () => {
    await expect(registry().run('linear.create_issue', { teamId: 'team-ops', title: 'x' }, makeContext())).rejects.toThrow('Linear API key missing: set secret LINEAR_API_KEY');
    await expect(registry([]).run('linear.create_issue', { teamId: 'team-ops', title: 'x' }, makeContext({ secrets }))).rejects.toBeInstanceOf(BlockedDestinationError);
    expect(linear.requests).toHaveLength(0);
  });

  for (const mode of [{ kind: 'create-then-drop' } as const, { kind: 'create-then-status', status: 504 } as const]) {
    it(`ambiguous outcome (${mode.kind}): after retries exactly one issue exists for the key`, async () => {
      linear.misbehave(mode, 1);
      const reg = registry();
      const { result, errors, attempts } = await runWithRetries(4, (attempt) =>
        reg.run('linear.create_issue', { teamId: 'team-ops', title: 'Outage' }, makeContext({ secrets, executionId: 'amb', nodeId: mode.kind, attempt })),
      );
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(TransientError);
      expect(attempts).toBe(2);
      expect(linear.issues).toHaveLength(1);
      const id = uuidV5(`amb:${mode.kind}`);
      expect(result).toEqual({ identifier: 'OPS-1', id, url: 'https://linear.app/acme/issue/OPS-1' });
      // Both attempts asked for the same id; the second was rejected as a duplicate, then fetched.
      expect(linear.creates().map((r) => (r.variables.input as { id: string }).id)).toEqual([id, id]);
    });
  }
});
