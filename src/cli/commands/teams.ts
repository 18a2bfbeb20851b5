/** `teams create|update|list|add-member|remove-member`: teams, their chat channels and members. */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { PrismaDirectoryAdmin, type TeamSummary } from '../../app/PrismaDirectoryAdmin.js';
import type { Actor } from '../../app/services.js';
import type { CliContext } from '../context.js';
import { table } from '../format.js';
import type { RunAction } from '../program.js';

/** The CLI acts as SYSTEM (whoever can reach the database administers it); audit rows name the OS user. */
export function cliActor(): Actor {
  let name = 'cli';
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "cli"
  }
  return { userId: null, name, role: 'SYSTEM', platform: 'cli', teamIds: [] };
}

export function directoryFor(ctx: CliContext): PrismaDirectoryAdmin {
  return new PrismaDirectoryAdmin(ctx.prisma);
}

/** `none` clears a channel; anything else is the id. */
function channelOption(value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  return value.trim().toLowerCase() === 'none' ? null : value;
}

function channels(team: TeamSummary): string {
  return `slack channel ${team.slackChannelId ?? '-'}, teams conversation ${team.teamsConversationId ?? '-'}`;
}

export function registerTeamCommands(program: Command, run: RunAction): void {
  const teams = program.command('teams').description('teams: their Slack channel and Teams conversation (failure alerts) and their members');

  teams
    .command('create')
    .description('create a team')
    .argument('<name>', 'team name (as workflows and /incident declare refer to it)')
    .option('--slack-channel <id>', 'Slack channel id (C… or G…) for the team\'s failure alerts')
    .option('--teams-conversation <id>', 'Teams conversation id (19:…@thread.tacv2) for the team\'s failure alerts')
    .action(
      run(async (ctx, name: string, opts: { slackChannel?: string; teamsConversation?: string }) => {
        const team = await directoryFor(ctx).createTeam(cliActor(), name, {
          ...(opts.slackChannel !== undefined ? { slackChannelId: opts.slackChannel } : {}),
          ...(opts.teamsConversation !== undefined ? { teamsConversationId: opts.teamsConversation } : {}),
        });
        ctx.io.out(`team ${team.name} created (${channels(team)})`);
      }),
    );

  teams
    .command('update')
    .description('rename a team or change its channels')
    .argument('<team>', 'team name or id')
    .option('--rename <name>', 'new name (workflows refer to teams by name: re-apply them)')
    .option('--slack-channel <id>', 'Slack channel id, or "none" to clear it')
    .option('--teams-conversation <id>', 'Teams conversation id, or "none" to clear it')
    .action(
      run(async (ctx, ref: string, opts: { rename?: string; slackChannel?: string; teamsConversation?: string }) => {
        const slackChannelId = channelOption(opts.slackChannel);
        const teamsConversationId = channelOption(opts.teamsConversation);
        const team = await directoryFor(ctx).updateTeam(cliActor(), ref, {
          ...(opts.rename !== undefined ? { name: opts.rename } : {}),
          ...(slackChannelId !== undefined ? { slackChannelId } : {}),
          ...(teamsConversationId !== undefined ? { teamsConversationId } : {}),
        });
        ctx.io.out(`team ${team.name}: ${channels(team)}`);
      }),
    );

  teams
    .command('list')
    .description('list teams with their member counts and channels')
    .action(
      run(async (ctx) => {
        const rows = await directoryFor(ctx).listTeams(cliActor());
        if (rows.length === 0) {
          ctx.io.out('no teams (create one with `teams create <name> --slack-channel C…`)');
          return;
        }
        const lines = table(
          ['NAME', 'MEMBERS', 'SLACK CHANNEL', 'TEAMS CONVERSATION'],
          rows.map((t) => [t.name, String(t.memberCount), t.slackChannelId ?? '-', t.teamsConversationId ?? '-']),
        );
        for (const line of lines) ctx.io.out(line);
      }),
    );

  teams
    .command('add-member')
    .description('add a user to a team')
    .argument('<team>', 'team name or id')
    .argument('<user>', 'user id, e-mail, Slack user id (U…/W…) or Teams user id')
    .action(
      run(async (ctx, team: string, user: string) => {
        const result = await directoryFor(ctx).addMember(cliActor(), team, user);
        ctx.io.out(result.added ? `added ${result.user.name} to ${result.team.name}` : `${result.user.name} already is a member of ${result.team.name}`);
      }),
    );

  teams
    .command('remove-member')
    .description('remove a user from a team')
    .argument('<team>', 'team name or id')
    .argument('<user>', 'user id, e-mail, Slack user id (U…/W…) or Teams user id')
    .action(
      run(async (ctx, team: string, user: string) => {
        const result = await directoryFor(ctx).removeMember(cliActor(), team, user);
        ctx.io.out(`removed ${result.user.name} from ${result.team.name}`);
      }),
    );
}
