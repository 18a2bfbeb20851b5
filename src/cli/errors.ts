/** A failure the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes: 0 success, 1 failure (invalid workflows, unknown names, database errors), 2 bad configuration. */
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 2;
