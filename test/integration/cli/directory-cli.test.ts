/** `teams` and `users` through the real CLI process: an operator's first-run sequence, then its errors. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { runCli } from './run-cli.js';

// Every CLI call is a fresh Node process compiling TypeScript: few calls, generous timeouts.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 120_000 });

let db: TestDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url };
});
afterAll(async () => {
  await db?.drop();
});

async function ok(args: string[]): Promise<string> {
  const result = await runCli(args, env);
  expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' });
  return result.stdout;
}

describe('teams and users CLI', () => {
  it('sets up a team with its channel, a linked user, membership and an admin', async () => {
    // Alice already used a slash command, so chat created her as a MEMBER with her Slack id only.
    const seen = await db.prisma.user.create({ data: { name: 'alice.s', slackUserId: 'U0ALICE' } });

    expect(await ok(['teams', 'create', 'payments', '--slack-channel', 'C0PAY'])).toBe('team payments created (slack channel C0PAY, teams conversation -)\n');
    expect(await ok(['users', 'upsert', '--email', 'alice@example.com', '--name', 'Alice Smith', '--slack-id', 'U0ALICE'])).toBe(
      `user Alice Smith updated (email alice@example.com, slack U0ALICE, teams -; id ${seen.id})\n`,
    );
    expect(await ok(['teams', 'add-member', 'payments', 'alice@example.com'])).toBe('added Alice Smith to payments\n');
    expect(await ok(['users', 'set-role', 'U0ALICE', 'admin'])).toBe('Alice Smith is an admin\n');
    expect(await ok(['teams', 'update', 'payments', '--rename', 'pay', '--teams-conversation', '19:pay@thread.tacv2'])).toBe(
      'team pay: slack channel C0PAY, teams conversation 19:pay@thread.tacv2\n',
    );
    expect(await ok(['teams', 'list'])).toMatch(/^NAME\s+MEMBERS\s+SLACK CHANNEL\s+TEAMS CONVERSATION\npay\s+1\s+C0PAY\s+19:pay@thread\.tacv2\n$/);
    expect(await ok(['users', 'list', '--team', 'pay'])).toMatch(
      new RegExp(`^NAME\\s+ROLE\\s+EMAIL\\s+SLACK\\s+TEAMS USER\\s+TEAMS\\s+ID\\nAlice Smith\\s+admin\\s+alice@example\\.com\\s+U0ALICE\\s+-\\s+pay\\s+${seen.id}\\n$`),
    );

    const users = await db.prisma.user.findMany({ include: { memberships: { include: { team: true } } } });
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ id: seen.id, role: 'ADMIN', email: 'alice@example.com', slackUserId: 'U0ALICE' });
    expect(users[0]!.memberships.map((m) => m.team.name)).toEqual(['pay']);
    const team = await db.prisma.team.findUniqueOrThrow({ where: { name: 'pay' } });
    expect(team).toMatchObject({ slackChannelId: 'C0PAY', teamsConversationId: '19:pay@thread.tacv2' });
    const audit = await db.prisma.auditLog.findMany({ where: { actor: { startsWith: 'cli:' } }, orderBy: { id: 'asc' }, select: { action: true } });
    expect(audit.map((a) => a.action)).toEqual(['team.create', 'user.update', 'team.member.add', 'user.role', 'team.update']);
  });

  it('exits 1 with one error line on a duplicate team, an identity of another user and an unknown team; changes nothing', async () => {
    await db.prisma.user.create({ data: { name: 'Bob', email: 'bob@example.com' } });
    const before = await db.prisma.auditLog.count();
    const [duplicate, conflict, unknown] = await Promise.all([
      runCli(['teams', 'create', 'pay'], env),
      runCli(['users', 'upsert', '--email', 'bob@example.com', '--slack-id', 'U0ALICE'], env),
      runCli(['teams', 'add-member', 'paymnets', 'bob@example.com'], env),
    ]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toBe('error: A team named "pay" already exists.\n');
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/^error: e-mail bob@example\.com belongs to "Bob" .* but Slack user U0ALICE belongs to "Alice Smith" .*nothing was changed/);
    expect(conflict.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: No team "paymnets". Did you mean "pay"?\n');
    expect(await db.prisma.auditLog.count()).toBe(before);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { email: 'bob@example.com' } })).slackUserId).toBeNull();
  });
});
