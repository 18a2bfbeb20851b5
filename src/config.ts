/**
 * The one place that reads the environment. `loadConfig()` parses it once with zod at start-up
 * and everything else receives the typed `Config` object.
 */
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const urlWithProtocol = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const csv = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

/** Every environment variable the product reads, with its default. Documented in the README. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  ROLE: z.enum(['web', 'worker', 'all']).default('all'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: urlWithProtocol(['http:', 'https:']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: urlWithProtocol(['postgresql:', 'postgres:']).default('postgresql://postgres@127.0.0.1:5432/incident_workflows'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
  REDIS_URL: urlWithProtocol(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().min(1).default('iw'),
  MIGRATE_ON_START: bool.default(true),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
  WORKFLOWS_DIR: z.string().optional(),

  SECRETS_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, { message: 'expected 32 bytes, base64-encoded (openssl rand -base64 32)' })
    .optional(),
  SECRETS_KEY_ID: z.string().min(1).default('k1'),
  SECRETS_OLD_KEYS: z.string().optional().describe('comma-separated keyId:base64key pairs still accepted for decryption'),

  WEBHOOK_ALLOWLIST: csv.default([]),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),

  JIRA_BASE_URL: urlWithProtocol(['http:', 'https:']).optional(),
  LINEAR_API_URL: urlWithProtocol(['http:', 'https:']).default('https://api.linear.app/graphql'),

  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', { message: 'expected a bot token starting with xoxb-' }).optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', { message: 'expected an app-level token starting with xapp-' }).optional(),
  SLACK_SOCKET_MODE: bool.default(false),
  SLACK_API_URL: urlWithProtocol(['http:', 'https:']).default('https://slack.com/api/'),

  MICROSOFT_APP_ID: z.string().min(1).optional(),
  MICROSOFT_APP_PASSWORD: z.string().min(1).optional(),
  MICROSOFT_APP_TENANT_ID: z.string().min(1).optional(),
  MICROSOFT_APP_TYPE: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
  TEAMS_ENABLED: bool.default(false),
  TEAMS_ALLOW_UNAUTHENTICATED: bool.default(false),
});

export type Config = z.infer<typeof configSchema>;

/** Thrown when the environment is invalid; its message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse the environment once. Throws `ConfigError` naming every bad or missing variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = configSchema.safeParse(input);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.join('.') || '(environment)';
      const shown = sensitive(name) ? '' : input[name] === undefined ? '' : ` (got ${JSON.stringify(input[name])})`;
      problems.push(`${name}: ${issue.message}${shown}`);
    }
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  if (config.SLACK_SOCKET_MODE && !config.SLACK_APP_TOKEN) problems.push('SLACK_APP_TOKEN: required when SLACK_SOCKET_MODE is true');
  if (config.SLACK_BOT_TOKEN && !config.SLACK_SIGNING_SECRET && !config.SLACK_SOCKET_MODE)
    problems.push('SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set (requests cannot be verified without it)');
  if (config.TEAMS_ENABLED && !config.MICROSOFT_APP_ID && !(config.TEAMS_ALLOW_UNAUTHENTICATED && config.NODE_ENV !== 'production'))
    problems.push(
      'MICROSOFT_APP_ID: required when TEAMS_ENABLED is true (set TEAMS_ALLOW_UNAUTHENTICATED=true outside production for the Bot Framework Emulator)',
    );
  if (config.TEAMS_ALLOW_UNAUTHENTICATED && config.NODE_ENV === 'production')
    problems.push('TEAMS_ALLOW_UNAUTHENTICATED: not allowed when NODE_ENV is production');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function sensitive(name: string): boolean {
  return /SECRET|TOKEN|PASSWORD|KEY|DATABASE_URL|REDIS_URL/.test(name);
}

/** Whether Slack is configured, and how. */
export function slackMode(config: Config): 'off' | 'http' | 'socket' {
  if (!config.SLACK_BOT_TOKEN) return 'off';
  return config.SLACK_SOCKET_MODE ? 'socket' : 'http';
}

/** Whether Teams is configured. */
export function teamsEnabled(config: Config): boolean {
  return config.TEAMS_ENABLED;
}

/**
 * Read one variable the operator names at run time (e.g. `secrets rotate --new-key-env NEW_KEY`):
 * keys are passed through the environment, never on the command line where `ps` would show them.
 */
export function readNamedVariable(name: string, env: Record<string, string | undefined> = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
