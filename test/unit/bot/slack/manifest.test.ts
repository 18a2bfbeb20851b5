/**
 * manifest.slack.yml against what the bot actually registers: every command, event and the
 * interactivity setting has a handler, every handler is declared, all at the one request URL, and
 * the bot scopes cover what the handlers and the notifier call.
 */
import { readFile } from 'node:fs/promises';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AppServices } from '../../../../src/app/services.js';
import { createSlackBot, REQUIRED_BOT_SCOPES } from '../../../../src/bot/slack/index.js';
import { loadConfig } from '../../../../src/config.js';
import type { PrismaClient } from '../../../../src/generated/prisma/client.js';
import { MemoryLogger } from '../../../helpers/memory-logger.js';

interface Manifest {
  features: { slash_commands?: Array<{ command: string; url: string; should_escape?: boolean }> };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions?: { request_url: string; bot_events?: string[] };
    interactivity?: { is_enabled: boolean; request_url: string };
    socket_mode_enabled?: boolean;
  };
}

describe('manifest.slack.yml', async () => {
  const manifest = parse(await readFile(new URL('../../../../manifest.slack.yml', import.meta.url), 'utf8')) as Manifest;
  // Registration only: nothing here touches the services or the database.
  const bot = createSlackBot({
    config: loadConfig({ SLACK_BOT_TOKEN: 'xoxb-manifest-test', SLACK_SIGNING_SECRET: 'secret' }),
    services: {} as AppServices,
    prisma: {} as PrismaClient,
    logger: new MemoryLogger(),
  });

  it('declares exactly the slash commands that have handlers, escaped, at /slack/events', () => {
    const declared = (manifest.features.slash_commands ?? []).map((c) => c.command).sort();
    expect(declared).toEqual([...bot.handlers.commands].sort());
    for (const command of manifest.features.slash_commands ?? []) {
      expect(new URL(command.url.replace('<host>', 'example.com')).pathname).toBe('/slack/events');
      expect(command.should_escape).toBe(true);
    }
  });

  it('subscribes to exactly the events that have handlers', () => {
    expect([...(manifest.settings.event_subscriptions?.bot_events ?? [])].sort()).toEqual([...bot.handlers.events].sort());
    expect(new URL(manifest.settings.event_subscriptions!.request_url.replace('<host>', 'example.com')).pathname).toBe('/slack/events');
  });

  it('enables interactivity at the same URL because button handlers exist', () => {
    expect(bot.handlers.actions.length).toBeGreaterThan(0);
    expect(manifest.settings.interactivity?.is_enabled).toBe(true);
    expect(new URL(manifest.settings.interactivity!.request_url.replace('<host>', 'example.com')).pathname).toBe('/slack/events');
  });

  it('grants every scope the handlers and the notifier need, and no other', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(Object.keys(REQUIRED_BOT_SCOPES).sort());
    if (bot.handlers.events.includes('app_mention')) expect(manifest.oauth_config.scopes.bot).toContain('app_mentions:read');
    if (bot.handlers.commands.length > 0) expect(manifest.oauth_config.scopes.bot).toContain('commands');
  });

  it('mounts the request URL on the router', () => {
    const app = express().use(bot.router);
    const routes = (bot.router as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> }).stack
      .filter((l) => l.route)
      .map((l) => ({ path: l.route!.path, post: Boolean(l.route!.methods.post) }));
    expect(app).toBeDefined();
    expect(routes).toEqual([{ path: '/slack/events', post: true }]);
  });
});
