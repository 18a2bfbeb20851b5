/**
 * What every command needs, created lazily so `--help` and `workflows validate --offline` work
 * without a database: the parsed config, a logger on stderr, and one Prisma client closed at exit.
 */
import { pino } from 'pino';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { createPrismaClient } from '../store/prisma.js';

/** Where command output goes; tests of the program can capture it. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Reads all of stdin (for secret values). */
  readStdin(): Promise<string>;
  stdinIsTty: boolean;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return Buffer.concat(chunks).toString('utf8');
  },
  stdinIsTty: Boolean(process.stdin.isTTY),
};

export class CliContext {
  private config_: Config | undefined;
  private logger_: Logger | undefined;
  private prisma_: PrismaClient | undefined;
  private readonly cleanups: Array<() => Promise<void>> = [];

  constructor(
    readonly io: CliIo,
    private readonly verbose = false,
  ) {}

  /** The configuration (throws `ConfigError` listing every bad variable). */
  get config(): Config {
    this.config_ ??= loadConfig();
    return this.config_;
  }

  /** JSON logs on stderr; quiet (warnings and errors only) unless `--verbose`. */
  get logger(): Logger {
    this.logger_ ??= createLogger({ LOG_LEVEL: this.verbose ? this.config.LOG_LEVEL : 'warn' }, pino.destination(2));
    return this.logger_;
  }

  get prisma(): PrismaClient {
    this.prisma_ ??= createPrismaClient(this.config.DATABASE_URL);
    return this.prisma_;
  }

  /** Runs `fn` when the command ends (connections to close). */
  onClose(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) await fn().catch(() => undefined);
    if (this.prisma_) await this.prisma_.$disconnect().catch(() => undefined);
  }
}
