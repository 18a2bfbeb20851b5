/**
 * Entry point of the admin CLI (`incident-workflows`, `bin/incident-workflows.js`).
 * Exit codes: 0 success; 1 any failure, reported as one line (`error: ...`) or, for invalid
 * workflow files, one `file:line path: message` line per problem; 2 invalid configuration.
 */
import { CommanderError } from 'commander';
import { CatalogError, formatIssue } from '../catalog/errors.js';
import { ConfigError } from '../config.js';
import { processIo, type CliIo } from './context.js';
import { CliError, EXIT_CONFIG, EXIT_FAILURE } from './errors.js';
import { buildProgram } from './program.js';

/** Runs the CLI with `argv` (as `process.argv`) and returns the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv);
    return 0;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Commander has already printed the help or the usage error; --help exits 0, a group without its subcommand 1.
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    io.err(error.message);
    return EXIT_CONFIG;
  }
  if (error instanceof CatalogError) {
    for (const issue of error.issues) io.out(formatIssue(issue));
    io.err(`error: ${error.issues.length} problem(s) in the workflow files; nothing applied`);
    return EXIT_FAILURE;
  }
  if (error instanceof CliError) {
    io.err(`error: ${error.message}`);
    return error.exitCode;
  }
  io.err(`error: ${oneLine(error)}`);
  return EXIT_FAILURE;
}

/** The useful line of an unexpected error (Prisma puts the cause on its last line). */
function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNREFUSED' || /ECONNREFUSED|connect ECONN|Can't reach database server/.test(error.message))
    return 'cannot connect to the database (check DATABASE_URL and that PostgreSQL is running)';
  const lines = error.message.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = error.name.startsWith('PrismaClient') ? lines[lines.length - 1] : lines[0];
  return line ?? error.name;
}

const code = await runCli(process.argv);
process.exitCode = code;
// Let stdout drain and exit naturally; if a stray connection keeps the loop alive, exit anyway.
setTimeout(() => process.exit(code), 5_000).unref();
