/** `users list|upsert|set-role`: people, their linked Slack/Teams identities and their role. */
import type { Command } from 'commander';
import type { DirectoryRole, UserSummary } from '../../app/PrismaDirectoryAdmin.js';
import { CliError } from '../errors.js';
import { table } from '../format.js';
import type { RunAction } from '../program.js';
import { cliActor, directoryFor } from './teams.js';

function role(value: string): DirectoryRole {
  const upper = value.trim().toUpperCase();
  if (upper === 'ADMIN' || upper === 'MEMBER') return upper;
  throw new CliError(`unknown role "${value}" (admin or member)`);
}

function identities(user: UserSummary): string {
  return `email ${user.email ?? '-'}, slack ${user.slackUserId ?? '-'}, teams ${user.teamsUserId ?? '-'}`;
}

export function registerUserCommands(program: Command, run: RunAction): void {
  const users = program.command('users').description('people: link e-mail, Slack and Teams identities; roles');

  users
    .command('list')
    .description('list users with their identities, role and teams')
    .option('--team <team>', 'only members of this team (name or id)')
    .option('--role <role>', 'only admins or only members')
    .action(
      run(async (ctx, opts: { team?: string; role?: string }) => {
        const rows = await directoryFor(ctx).listUsers(cliActor(), {
          ...(opts.team !== undefined ? { team: opts.team } : {}),
          ...(opts.role !== undefined ? { role: role(opts.role) } : {}),
        });
        if (rows.length === 0) {
          ctx.io.out('no users');
          return;
        }
        const lines = table(
          ['NAME', 'ROLE', 'EMAIL', 'SLACK', 'TEAMS USER', 'TEAMS', 'ID'],
          rows.map((u) => [u.name, u.role.toLowerCase(), u.email ?? '-', u.slackUserId ?? '-', u.teamsUserId ?? '-', u.teams.join(',') || '-', u.id]),
        );
        for (const line of lines) ctx.io.out(line);
      }),
    );

  users
    .command('upsert')
    .description('create a user, or link more identities to the user one of them already belongs to')
    .option('--email <email>', 'e-mail address')
    .option('--name <name>', 'display name')
    .option('--slack-id <id>', 'Slack user id (U… or W…)')
    .option('--teams-id <id>', 'Teams user id (the id the bot sees as the activity\'s from.id)')
    .action(
      run(async (ctx, opts: { email?: string; name?: string; slackId?: string; teamsId?: string }) => {
        const { user, action } = await directoryFor(ctx).upsertUser(cliActor(), {
          ...(opts.email !== undefined ? { email: opts.email } : {}),
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.slackId !== undefined ? { slackUserId: opts.slackId } : {}),
          ...(opts.teamsId !== undefined ? { teamsUserId: opts.teamsId } : {}),
        });
        ctx.io.out(`user ${user.name} ${action} (${identities(user)}; id ${user.id})`);
      }),
    );

  users
    .command('set-role')
    .description('make a user an admin (manages workflows, /workflow list) or a member')
    .argument('<user>', 'user id, e-mail, Slack user id (U…/W…) or Teams user id')
    .argument('<role>', 'admin or member')
    .action(
      run(async (ctx, user: string, value: string) => {
        const updated = await directoryFor(ctx).setRole(cliActor(), user, role(value));
        ctx.io.out(`${updated.name} is ${updated.role === 'ADMIN' ? 'an admin' : 'a member'}`);
      }),
    );
}
