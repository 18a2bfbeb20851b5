import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, slackMode } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives defaults that work on this machine', () => {
    const config = loadConfig({});
    expect(config.ROLE).toBe('all');
    expect(config.DATABASE_URL).toMatch(/^postgresql:\/\/.*127\.0\.0\.1:5432/);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.MIGRATE_ON_START).toBe(true);
    expect(slackMode(config)).toBe('off');
  });

  it('names every bad variable and what it expects, in one error', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'not a url', PORT: 'eighty', ROLE: 'both' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('postgresql://');
    expect(message).toContain('PORT');
    expect(message).toContain('ROLE');
    expect((error as ConfigError).problems).toHaveLength(3);
  });

  it('never echoes a secret value in its error', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'super-secret-value' })).toThrowError(/SLACK_BOT_TOKEN/);
    try {
      loadConfig({ SLACK_BOT_TOKEN: 'super-secret-value' });
    } catch (e) {
      expect((e as Error).message).not.toContain('super-secret-value');
    }
  });

  it('refuses Teams without an app id unless the local-development switch is on outside production', () => {
    expect(() => loadConfig({ TEAMS_ENABLED: 'true' })).toThrowError(/MICROSOFT_APP_ID/);
    expect(loadConfig({ TEAMS_ENABLED: 'true', TEAMS_ALLOW_UNAUTHENTICATED: 'true' }).TEAMS_ENABLED).toBe(true);
    expect(() =>
      loadConfig({ TEAMS_ENABLED: 'true', TEAMS_ALLOW_UNAUTHENTICATED: 'true', NODE_ENV: 'production' }),
    ).toThrowError(/TEAMS_ALLOW_UNAUTHENTICATED/);
  });

  it('requires the signing secret when a Slack bot token is set', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrowError(/SLACK_SIGNING_SECRET/);
    expect(slackMode(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }))).toBe('http');
  });

  it('checks the secrets key is 32 bytes', () => {
    expect(() => loadConfig({ SECRETS_KEY: Buffer.alloc(16).toString('base64') })).toThrowError(/SECRETS_KEY: expected 32 bytes/);
    expect(loadConfig({ SECRETS_KEY: Buffer.alloc(32, 1).toString('base64') }).SECRETS_KEY).toBeDefined();
  });

  it('sizes the database pool from DATABASE_POOL_SIZE, 20 by default, within 1..200', () => {
    expect(loadConfig({}).DATABASE_POOL_SIZE).toBe(20);
    expect(loadConfig({ DATABASE_POOL_SIZE: '50' }).DATABASE_POOL_SIZE).toBe(50);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0' })).toThrowError(/DATABASE_POOL_SIZE/);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '201' })).toThrowError(/DATABASE_POOL_SIZE/);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '2.5' })).toThrowError(/DATABASE_POOL_SIZE/);
  });
});
