/**
 * The product's one pino logger. Created once from config and injected; modules derive
 * children with `executionId`, `workflowId`, `incidentId` bindings.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { Config } from './config.js';

/** Paths pino blanks out wherever they appear in a log object. */
export const REDACT_PATHS = [
  'password',
  'secret',
  'secrets',
  'token',
  'apiKey',
  'apiToken',
  'authorization',
  'Authorization',
  'cookie',
  'signingSecret',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.apiKey',
  '*.apiToken',
  '*.authorization',
  '*.Authorization',
  '*.signingSecret',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'config.headers.Authorization',
  'config.headers.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'SECRETS_KEY',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'MICROSOFT_APP_PASSWORD',
];

export type Logger = PinoLogger;

/** Create the root logger. `destination` lets tests capture output. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.LOG_LEVEL,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'incident-workflows' },
    },
    destination,
  );
}
