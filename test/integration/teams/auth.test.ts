/**
 * POST /api/messages authentication with tokens from a local issuer: valid tokens pass and the
 * bot answers through the Bot Connector with its own MSAL-obtained token; every kind of bad
 * token gets 401 and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Activities, startTeamsHarness, type TeamsHarness } from './harness.js';

describe('Teams /api/messages authentication', () => {
  let h: TeamsHarness;
  let a: Activities;

  beforeAll(async () => {
    h = await startTeamsHarness();
    a = new Activities(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('accepts a valid token and stores the conversation reference', async () => {
    const res = await h.post(a.conversationUpdate('added'));
    expect(res.status).toBe(200);
    const row = await h.db.prisma.chatConversation.findUnique({
      where: { platform_conversationId: { platform: 'TEAMS', conversationId: a.conversationId } },
    });
    expect(row).toMatchObject({ kind: 'channel', serviceUrl: h.connector.serviceUrl, removedAt: null });
    expect(row?.reference).toMatchObject({ conversation: { id: a.conversationId }, serviceUrl: h.connector.serviceUrl, bot: { id: h.botId } });
    // The team's General channel (its id is the team id) is kept as well.
    const general = await h.db.prisma.chatConversation.findUnique({
      where: { platform_conversationId: { platform: 'TEAMS', conversationId: '19:team-general@thread.tacv2' } },
    });
    expect(general?.reference).toMatchObject({ conversation: { id: '19:team-general@thread.tacv2' } });
  });

  it('answers a message through the connector with a token it got from the token endpoint', async () => {
    const before = h.connector.calls.length;
    const res = await h.post(a.channelMessage('workflow list'));
    expect(res.status).toBe(200);
    await h.connector.waitFor(() => h.connector.calls.length > before, 10_000, 'a reply');
    const reply = h.connector.calls[before]!;
    expect(reply.status).toBe(201);
    expect(reply.kind).toBe('reply');
    expect(reply.conversationId).toMatch(/^19:incident-room@thread\.tacv2;messageid=/);
    // Non-admins are refused with the shared text.
    expect(reply.body.text).toContain('Only workflow admins can list workflows');
    expect(h.issuer.tokenRequests.some((r) => r.clientId === h.appId && r.scope.includes('https://api.botframework.com/.default'))).toBe(true);
  });

  const bad: Array<[string, (h: TeamsHarness) => string | null]> = [
    ['missing', () => null],
    ['expired', (h) => h.token({ expiresIn: -3600 })],
    ['not yet valid', (h) => h.token({ notBefore: 3600, expiresIn: 7200 })],
    ['wrong audience', (h) => h.issuer.token({ aud: '00000000-1111-2222-3333-444444444444', serviceUrl: h.connector.serviceUrl })],
    ['wrong issuer', (h) => h.token({ iss: 'https://evil.example.com' })],
    ['unsigned (alg none)', (h) => h.token({ kind: 'none' })],
    ['forged signature', (h) => h.token({ kind: 'forged' })],
    ['HS256 signed with the public key', (h) => h.token({ kind: 'hs256-public-key' })],
    ['for another service URL', (h) => h.token({ serviceUrl: 'https://smba.trafficmanager.net/emea/' })],
    ['garbage', () => 'not.a.jwt'],
  ];

  it.each(bad)('refuses a %s token with 401 and does nothing', async (_name, make) => {
    const personal = a.personalMessage('incident declare should never happen', { id: `29:attacker-${_name.replace(/\W/g, '')}`, name: 'Mallory' });
    const callsBefore = h.connector.calls.length;
    const res = await h.post(personal, make(h));
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body)).not.toMatch(/jwt|signature|key/i);
    const conversation = (personal.conversation as { id: string }).id;
    expect(await h.db.prisma.chatConversation.count({ where: { conversationId: conversation } })).toBe(0);
    expect(await h.db.prisma.incident.count({ where: { title: 'should never happen' } })).toBe(0);
    expect(h.connector.calls.length).toBe(callsBefore);
  });

  it('refuses a wrong bearer scheme and a body that is not an activity', async () => {
    const res = await fetch(`${h.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      body: JSON.stringify(a.personalMessage('workflow list')),
    });
    expect(res.status).toBe(401);
    const notActivity = await fetch(`${h.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2]' });
    expect(notActivity.status).toBe(400);
  });

  it('updates the stored service URL when Teams moves the conversation', async () => {
    const moved = `${h.connector.serviceUrl}emea/`;
    const activity = { ...a.conversationUpdate('added'), serviceUrl: moved };
    const res = await h.post(activity, h.token({ serviceUrl: moved }));
    expect(res.status).toBe(200);
    const row = await h.db.prisma.chatConversation.findUnique({
      where: { platform_conversationId: { platform: 'TEAMS', conversationId: a.conversationId } },
    });
    expect(row?.serviceUrl).toBe(moved);
    expect((row?.reference as { serviceUrl?: string }).serviceUrl).toBe(moved);
  });

  it('records that the bot was removed from a conversation', async () => {
    const res = await h.post(a.conversationUpdate('removed'));
    expect(res.status).toBe(200);
    const row = await h.db.prisma.chatConversation.findUnique({
      where: { platform_conversationId: { platform: 'TEAMS', conversationId: a.conversationId } },
    });
    expect(row?.removedAt).toBeInstanceOf(Date);
    // Hearing from the conversation again makes it usable again.
    await h.post(a.conversationUpdate('added'));
    const again = await h.db.prisma.chatConversation.findUnique({
      where: { platform_conversationId: { platform: 'TEAMS', conversationId: a.conversationId } },
    });
    expect(again?.removedAt).toBeNull();
  });
});
