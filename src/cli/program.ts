/**
 * The admin CLI's commands (commander). `main.ts` runs it; each action gets a `CliContext` whose
 * connections are closed when the action ends, and its errors are reported by `main.ts`.
 */
import { Command } from 'commander';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerSecretCommands } from './commands/secrets.js';
import { registerTeamCommands } from './commands/teams.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerUserCommands } from './commands/users.js';
import { registerWorkflowCommands } from './commands/workflows.js';
import { CliContext, type CliIo } from './context.js';

/** Wraps a command body: context in, connections closed after. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RunAction = <A extends any[]>(fn: (ctx: CliContext, ...args: A) => Promise<void>) => (...args: A) => Promise<void>;

/** Builds the `incident-workflows` program writing to `io`. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('incident-workflows')
    .description('Admin CLI for incident workflows: workflows as code, teams and users, secrets, API tokens, migrations.')
    .option('-v, --verbose', 'log at LOG_LEVEL on stderr (default: warnings only)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const run: RunAction =
    (fn) =>
    async (...args) => {
      const ctx = new CliContext(io, Boolean(program.opts<{ verbose?: boolean }>().verbose));
      try {
        await fn(ctx, ...args);
      } finally {
        await ctx.close();
      }
    };

  registerWorkflowCommands(program, run);
  registerSecretCommands(program, run);
  registerTokenCommands(program, run);
  registerTeamCommands(program, run);
  registerUserCommands(program, run);
  registerMigrateCommand(program, run);
  return program;
}
