/** How a Teams message becomes command text for the shared grammar. */
import type { Activity } from 'botbuilder';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/bot/commands.js';
import { commandText } from '../../../src/bot/teams/TeamsBot.js';

const BOT = { id: '28:bot-app-id', name: 'Incident Workflows' };

function message(text: string, mentions: Array<{ id: string; name: string }> = []): Activity {
  return {
    type: 'message',
    text,
    recipient: BOT,
    entities: mentions.map((m) => ({ type: 'mention', mentioned: m, text: `<at>${m.name}</at>` })),
  } as unknown as Activity;
}

describe('commandText', () => {
  it('strips the bot mention in channels', () => {
    expect(commandText(message('<at>Incident Workflows</at> workflow run deploy-rollback', [BOT]))).toBe('workflow run deploy-rollback');
  });

  it('leaves 1:1 text alone apart from whitespace', () => {
    expect(commandText(message('  workflow   list \n'))).toBe('workflow list');
  });

  it('rewrites other people’s mentions to the neutral form the grammar parses', () => {
    const text = commandText(message('<at>Incident Workflows</at> incident assign <at>Ben Lee</at>', [BOT, { id: '29:ben', name: 'Ben Lee' }]));
    expect(text).toBe('incident assign "<@29:ben|Ben Lee>"');
    const parsed = parseMessage(text);
    expect(parsed).toEqual({ ok: true, intent: { kind: 'incident.assign', assignee: { kind: 'mention', platformUserId: '29:ben', label: 'Ben Lee' } } });
  });

  it('drops Teams HTML remnants and decodes entities', () => {
    expect(commandText(message('<p><at>Incident Workflows</at>&nbsp;incident declare DB &amp; cache down</p>', [BOT]))).toBe('incident declare DB & cache down');
  });
});
