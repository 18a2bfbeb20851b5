/** `tokens create|revoke|list`: bearer tokens for the HTTP API (stored hashed; shown once). */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { API_SCOPES, createApiToken, revokeApiToken } from '../../http/api/tokens.js';
import { CliError } from '../errors.js';
import { table } from '../format.js';
import type { RunAction } from '../program.js';

function who(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export function registerTokenCommands(program: Command, run: RunAction): void {
  const tokens = program.command('tokens').description('API bearer tokens');

  tokens
    .command('create')
    .description('create a token; it is printed once and only its hash is stored')
    .argument('<name>', 'what the token is for (e.g. alertmanager)')
    .requiredOption('--scope <scopes...>', `one or more of: ${API_SCOPES.join(', ')} (repeat or comma-separate)`)
    .option('--json', 'print {id, name, scopes, token} as JSON')
    .action(
      run(async (ctx, name: string, opts: { scope: string[]; json?: boolean }) => {
        const scopes = opts.scope.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
        let created;
        try {
          created = await createApiToken(ctx.prisma, { name, scopes, createdBy: who() });
        } catch (error) {
          if (error instanceof Error && /scope|name/.test(error.message) && !/prisma|database/i.test(error.message)) throw new CliError(error.message);
          throw error;
        }
        if (opts.json) {
          ctx.io.out(JSON.stringify(created));
          return;
        }
        ctx.io.out(`id:     ${created.id}`);
        ctx.io.out(`name:   ${created.name}`);
        ctx.io.out(`scopes: ${created.scopes.join(', ')}`);
        ctx.io.out(`token:  ${created.token}`);
        ctx.io.err('This is the only time the token is shown: store it now (send it as "Authorization: Bearer <token>").');
      }),
    );

  tokens
    .command('revoke')
    .description('revoke a token by id; requests with it are refused from now on')
    .argument('<id>')
    .action(
      run(async (ctx, id: string) => {
        if (!(await revokeApiToken(ctx.prisma, id, who()))) throw new CliError(`no active token with id ${id}`);
        ctx.io.out(`token ${id} revoked`);
      }),
    );

  tokens
    .command('list')
    .description('list tokens (never their values)')
    .option('--all', 'include revoked tokens')
    .action(
      run(async (ctx, opts: { all?: boolean }) => {
        const rows = await ctx.prisma.apiToken.findMany({
          where: opts.all ? {} : { revokedAt: null },
          orderBy: { createdAt: 'asc' },
          select: { id: true, name: true, scopes: true, createdAt: true, lastUsedAt: true, revokedAt: true },
        });
        if (rows.length === 0) {
          ctx.io.out('no tokens');
          return;
        }
        const lines = table(
          ['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
          rows.map((r) => [r.id, r.name, r.scopes.join(','), r.createdAt.toISOString(), r.lastUsedAt?.toISOString() ?? '-', r.revokedAt?.toISOString() ?? '-']),
        );
        for (const line of lines) ctx.io.out(line);
      }),
    );
}
