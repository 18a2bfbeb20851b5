/** `migrate`: apply pending SQL migrations (prisma/migrations) with the project's runner. */
import type { Command } from 'commander';
import { migrate, MigrationError } from '../../store/migrate.js';
import { CliError } from '../errors.js';
import type { RunAction } from '../program.js';

export function registerMigrateCommand(program: Command, run: RunAction): void {
  program
    .command('migrate')
    .description('apply pending database migrations (safe to run twice, or from two processes at once)')
    .option('--dir <path>', 'migrations folder (default: prisma/migrations)')
    .action(
      run(async (ctx, opts: { dir?: string }) => {
        try {
          const { applied } = await migrate({ databaseUrl: ctx.config.DATABASE_URL, logger: ctx.logger, ...(opts.dir ? { migrationsDir: opts.dir } : {}) });
          ctx.io.out(applied.length === 0 ? 'database is up to date' : `applied ${applied.length} migration(s): ${applied.join(', ')}`);
        } catch (error) {
          if (error instanceof MigrationError) throw new CliError(`migration failed${error.migration ? ` in ${error.migration}` : ''}: ${error.message}`);
          throw error;
        }
      }),
    );
}
